"""Stops a test's ``wildrydes local up`` when the test process dies without stopping it (SIGKILL, the SIGTERM
of a ``timeout``, a crash of the interpreter): the test holds the write end of this process's standard input;
when the kernel closes it, the read returns and ``local up`` gets SIGTERM, which stops everything it started
(its own lifeline sweeps whatever is left).

``python -m tests.support.stack_watchdog PID MARKER``: only a live process whose command line holds MARKER
(the stack's data directory) is signalled, so a recycled pid is left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

import psutil


def main(argv: list[str]) -> int:
    pid, marker = int(argv[0]), argv[1]
    for sig in (signal.SIGINT, signal.SIGHUP):  # the terminal's signals are the test's to act on
        signal.signal(sig, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass  # the test writes nothing; the read returns b"" once its end is closed
    try:
        cmdline = " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return 0
    if marker in cmdline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
