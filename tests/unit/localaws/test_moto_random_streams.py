"""A mutation's identifiers replay exactly although reads served meanwhile draw request ids from moto's
generator (the durability of ids that test_local_state proves through kill -9 of the whole stack)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from moto.moto_api._internal import mock_random

from localaws.moto.host import RandomStreams


@pytest.fixture
def streams() -> Iterator[RandomStreams]:
    streams = RandomStreams()
    streams.install()
    yield streams
    del mock_random.getrandbits, mock_random.random  # back to the class's own methods


def read_in_another_thread() -> None:
    thread = threading.Thread(target=lambda: mock_random.get_random_string(length=52))  # a request id
    thread.start()
    thread.join()


def test_reads_between_capture_and_mutation_do_not_change_the_mutations_ids(streams: RandomStreams) -> None:
    captured = mock_random.getstate()
    read_in_another_thread()
    with streams.mutation():
        created = (mock_random.uuid4(), mock_random.get_random_hex(8))
    mock_random.setstate(captured)  # what the replay of the journal entry does
    with streams.mutation():
        assert (mock_random.uuid4(), mock_random.get_random_hex(8)) == created


def test_without_the_streams_a_read_shifts_the_ids() -> None:
    captured = mock_random.getstate()
    read_in_another_thread()
    created = mock_random.uuid4()
    mock_random.setstate(captured)
    assert mock_random.uuid4() != created
