"""Make a batch component's niceness hold against the other components, not only inside its own session.

Every component runs in its own session (so that it stops as a group). Linux kernels with scheduler
autogroups (``kernel.sched_autogroup_enabled = 1``, the common default) put each session in a group of its
own and share the CPU equally between the groups; a process's niceness then only ranks it against the
processes of its own session. The Firehose (then at ``nice 10``) kept taking its full share from the live path
(~0.45 of a core during each window's burst on two cores). Its session's autogroup gets the same niceness,
so that the group yields as the process would (raising a niceness needs no privilege).
"""

from __future__ import annotations

import os
from pathlib import Path

from localaws.errors import LocalError

# "0" leaves the autogroups alone: the benchmarks compare both (python -m bench pipeline --compare ...).
AUTOGROUP_VAR = "WILDRYDES_AUTOGROUP_NICE"
# The archive yields the most: its 60-s buffers absorb a window-end burst that the live path has ~5 s for. At
# nice 10 (the other batch work's) it still took ~0.4 of a core in each burst at 10,000 records/s.
ARCHIVE_NICE_VAR = "WILDRYDES_ARCHIVE_NICE"
ARCHIVE_NICE = 19


def archive_nice() -> int:
    """The Firehose's niceness: ``WILDRYDES_ARCHIVE_NICE`` (0-19, for side-by-side runs), else 19."""
    text = os.environ.get(ARCHIVE_NICE_VAR) or str(ARCHIVE_NICE)
    if not text.isdigit() or int(text) > 19:
        raise LocalError(f"{ARCHIVE_NICE_VAR}={text!r}: expected a niceness from 0 to 19")
    return int(text)


def autogroups_enabled() -> bool:
    """Whether the kernel groups the CPU by session (``kernel.sched_autogroup_enabled = 1``)."""
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return False


def autogroup_path(pid: int) -> Path:
    return Path(f"/proc/{pid}/autogroup")


def yield_session(pid: int, nice: int) -> bool:
    """Give the autogroup of ``pid``'s session the niceness ``nice``; False where the kernel has no
    autogroups (not Linux, or built without them), the switch is off, or the process has already exited."""
    if nice <= 0 or os.environ.get(AUTOGROUP_VAR, "1") == "0":
        return False
    try:
        autogroup_path(pid).write_text(str(nice))
    except OSError:
        return False
    return True


def autogroup_nice(pid: int) -> int | None:
    """The niceness of ``pid``'s autogroup (``/autogroup-123 nice 10``); None without autogroups or for a
    process in none (the file is then empty)."""
    try:
        _, found, nice = autogroup_path(pid).read_text().partition(" nice ")
    except OSError:
        return None
    return int(nice) if found else None
