"""The local deploy passes a function's environment variables as text, as CloudFormation does: a ``Ref`` to a
``Number`` parameter (``WRITE_CONCURRENCY: !Ref SummaryWriterConcurrency``) is a string wherever it is used."""

from __future__ import annotations

from infra.deploy.resources.functions import with_text_environment


def test_numbers_and_booleans_become_text_and_nothing_else_changes() -> None:
    props = {"Handler": "h.handler", "MemorySize": 256,
             "Environment": {"Variables": {"N": 8, "F": 1.5, "B": True, "OFF": False, "S": "x", "REF": {"Ref": "T"}}}}
    assert with_text_environment(props) == {
        "Handler": "h.handler", "MemorySize": 256,
        "Environment": {"Variables": {"N": "8", "F": "1.5", "B": "true", "OFF": "false", "S": "x",
                                      "REF": {"Ref": "T"}}}}
    assert props["Environment"]["Variables"]["N"] == 8  # the template's own properties are left as they were


def test_a_function_without_variables_is_left_alone() -> None:
    assert with_text_environment({"Handler": "h.handler"}) == {"Handler": "h.handler"}
    assert with_text_environment({"Environment": {}}) == {"Environment": {}}
