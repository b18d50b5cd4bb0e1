"""When an idle shard poller reads again. By default a shard that brought nothing to invoke is read again after
``IDLE_POLL_S`` (Lambda's base rate of one poll per shard per second). Two moments are known to matter sooner,
and the runtime reads at them instead of waiting out the interval:

- a tumbling window's end: a read just after it brings the first record of the next window, which closes the
  window (its final invocation) at once, instead of up to a second later;
- another mapping's function having just been invoked: what it wrote to a stream this runtime polls (the
  aggregator's summaries, read by the summary writer) is read at once (``Doorbell``).

Neither changes what is invoked with which records; only when. At 10,000 records/s, side by side, the window's
first summary reached DynamoDB 1.28 s after its end instead of 2.13 s, its last 4.80 s instead of 5.56 s
(medians; bench/results/pipeline-10000-compare-prompt-polling.md).
``WILDRYDES_PROMPT_POLLING=0`` turns both off, so that a benchmark can run both side by side."""

from __future__ import annotations

import os
import threading

from localaws.kinesis_consumer.reading import IDLE_POLL_S

SWITCH = "WILDRYDES_PROMPT_POLLING"
# How long after a window's end to read: records put after the end must have reached the stream.
AFTER_WINDOW_END_S = 0.1


def enabled() -> bool:
    return os.environ.get(SWITCH, "1") != "0"


def idle_wait(now: float, window_end: float | None, close_grace_s: float) -> float:
    """Seconds to wait before the next read of a shard that brought nothing to invoke: the idle interval, cut
    short to just after the open window's end (``window_end``), and again to the end plus ``close_grace_s``
    (when a quiet shard's window is closed by the clock), whichever comes first and is still ahead."""
    if window_end is None:
        return IDLE_POLL_S
    for moment in (window_end + AFTER_WINDOW_END_S, window_end + close_grace_s):
        if moment > now:
            return min(IDLE_POLL_S, moment - now)
    return IDLE_POLL_S


class Doorbell:
    """Wakes the idle pollers of a runtime. Each poller waits on its own event; ``ring`` sets every event but
    the ringer's, so a mapping's own invocations never wake its own pollers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[int, tuple[str, threading.Event]] = {}

    def subscribe(self, owner: str) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._events[id(event)] = (owner, event)
        return event

    def unsubscribe(self, event: threading.Event) -> None:
        with self._lock:
            self._events.pop(id(event), None)

    def ring(self, ringer: str) -> None:
        with self._lock:
            for owner, event in self._events.values():
                if owner != ringer:
                    event.set()
