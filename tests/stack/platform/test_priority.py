"""The batch components yield the CPU to the live path: the Firehose runs at niceness 19, and so does its
session's scheduler autogroup where the kernel has autogroups (there, each component's session shares the
CPU equally with every other whatever its processes' niceness); the live path's components keep 0."""

from __future__ import annotations

import psutil

from localaws.supervisor.priority import ARCHIVE_NICE, autogroup_nice, autogroups_enabled
from tests.support.stack import LocalStack

LIVE = ("gateway", "kinesis", "dynamodb", "lambda")


def test_the_firehose_yields_to_the_live_path(local_stack: LocalStack) -> None:
    components = local_stack.run_state()["components"]
    firehose = components["firehose"]["pid"]
    assert psutil.Process(firehose).nice() == ARCHIVE_NICE
    for name in LIVE:
        assert psutil.Process(components[name]["pid"]).nice() == 0, name
    if autogroups_enabled():
        assert autogroup_nice(firehose) == ARCHIVE_NICE
        assert {name: autogroup_nice(components[name]["pid"]) for name in LIVE} == dict.fromkeys(LIVE, 0)
    else:
        assert autogroup_nice(firehose) is None
