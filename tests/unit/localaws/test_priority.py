"""priority.yield_session gives a component's session the niceness of its batch work, where the kernel has
scheduler autogroups, and leaves everything alone otherwise."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from localaws.errors import LocalError
from localaws.supervisor import priority


@pytest.fixture
def session_leader() -> Iterator[int]:
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE,
                               start_new_session=True)
    yield process.pid
    process.kill()
    process.wait()


def test_a_new_sessions_autogroup_takes_the_niceness(session_leader: int) -> None:
    before = priority.autogroup_nice(session_leader)
    written = priority.yield_session(session_leader, 7)
    assert written == priority.autogroups_enabled()
    if written:
        assert before == 0
        assert priority.autogroup_nice(session_leader) == 7
    else:
        assert priority.autogroup_nice(session_leader) is None


def test_nothing_is_written_at_niceness_zero_or_with_the_switch_off(
        session_leader: int, monkeypatch: pytest.MonkeyPatch) -> None:
    assert priority.yield_session(session_leader, 0) is False
    monkeypatch.setenv(priority.AUTOGROUP_VAR, "0")
    assert priority.yield_session(session_leader, 7) is False
    assert priority.autogroup_nice(session_leader) in (0, None)


def test_an_exited_process_is_not_an_error() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    process.wait()
    assert priority.yield_session(process.pid, 7) is False


def test_the_archive_yields_the_most_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(priority.ARCHIVE_NICE_VAR, raising=False)
    assert priority.archive_nice() == 19
    monkeypatch.setenv(priority.ARCHIVE_NICE_VAR, "10")
    assert priority.archive_nice() == 10


@pytest.mark.parametrize("value", ["-1", "20", "high"])
def test_an_archive_niceness_out_of_range_is_refused_by_name(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(priority.ARCHIVE_NICE_VAR, value)
    with pytest.raises(LocalError, match="WILDRYDES_ARCHIVE_NICE"):
        priority.archive_nice()
