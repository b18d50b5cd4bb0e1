"""A query's .metadata goes up as soon as its columns are known (localaws/athena/results.py MetadataUpload):
once per set of columns, the last columns win, and a failed query's is removed again."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from localaws.athena.results import MetadataUpload
from localaws.athena.types import athena_column_info

URL = "s3://results/q.csv.metadata"
NAME = [athena_column_info("name", "VARCHAR")]
COUNT = [athena_column_info("n", "BIGINT")]


class Objects:
    """Records what the upload does to S3, in order (a put by the type of its one column)."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.fail = fail

    def put(self, url: str, body: bytes) -> None:
        if self.fail:
            raise OSError("S3 is down")
        self.calls.append(("put", url, "bigint" if b"bigint" in body else "varchar"))

    def remove(self, url: str) -> None:
        self.calls.append(("remove", url, None))


@pytest.fixture
def pool() -> Any:
    with ThreadPoolExecutor(2) as pool:
        yield pool


def test_the_same_columns_are_put_once(pool: ThreadPoolExecutor) -> None:
    objects = Objects()
    upload = MetadataUpload(objects, URL, pool.submit)
    upload.send(NAME)
    upload.finish(NAME)
    assert objects.calls == [("put", URL, "varchar")]


def test_other_columns_are_put_after_the_first_put_landed(pool: ThreadPoolExecutor) -> None:
    objects = Objects()
    upload = MetadataUpload(objects, URL, pool.submit)
    upload.send(NAME)
    upload.finish(COUNT)
    assert objects.calls == [("put", URL, "varchar"), ("put", URL, "bigint")]


def test_a_failed_query_removes_what_was_put(pool: ThreadPoolExecutor) -> None:
    objects = Objects()
    upload = MetadataUpload(objects, URL, pool.submit)
    upload.send(NAME)
    upload.abort()
    assert objects.calls == [("put", URL, "varchar"), ("remove", URL, None)]
    upload.abort()  # nothing more to undo
    assert len(objects.calls) == 2


def test_nothing_sent_nothing_removed() -> None:
    objects = Objects()
    MetadataUpload(objects, URL, lambda *a: Future()).abort()
    assert objects.calls == []


def test_a_failed_put_is_the_queries_error(pool: ThreadPoolExecutor) -> None:
    upload = MetadataUpload(Objects(fail=True), URL, pool.submit)
    upload.send(NAME)
    with pytest.raises(OSError, match="S3 is down"):
        upload.finish(NAME)
