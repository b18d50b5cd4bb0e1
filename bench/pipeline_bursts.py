"""Where a window's end goes: the CPU each process spent between a window's end and its last item in DynamoDB,
and the arithmetic that turns it into the delay's floor on this machine.

At each window's end the aggregator's final invocation emits one summary per unicorn and the summary writer puts
them into DynamoDB: a burst of work on top of the steady load (producer, kinesalite, the archive). ``CpuTimeline``
records every process group's cumulative CPU time twice a second; ``bursts`` reads from it what each group spent
in each window's burst, and ``ceiling_lines`` says whether the burst was bound by the CPU and how much cheaper
its work must get for a given delay.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

# The processes that carry a window's summaries from the aggregator's final invocation into DynamoDB.
WRITE_PATH = ("lambda", "gateway", "dynamodb")


def group_of(root: str, cmdline: list[str]) -> str:
    """A Lambda worker is named after its handler's module (``lambda aggregator``), so that the aggregator and
    the summary writer are told apart; every other process counts for its root."""
    if root == "lambda" and "localaws.lambda_runtime.worker" in cmdline:
        handler = cmdline[cmdline.index("localaws.lambda_runtime.worker") + 1]
        return f"lambda {handler.rsplit('.', 2)[-2]}"
    return root


class CpuTimeline(threading.Thread):
    """Cumulative CPU seconds (user + system) per process group, sampled every ``interval`` seconds. A process
    that exits keeps what it used; the children of each root are looked up again every ``rediscover_s``."""

    def __init__(self, roots: dict[str, int], alone: dict[str, int] | None = None, interval: float = 0.5,
                 rediscover_s: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.alone = alone or {}
        self.interval = interval
        self.rediscover_s = rediscover_s
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.stop = threading.Event()
        self._members: dict[int, tuple[str, psutil.Process]] = {}
        self._used: dict[int, tuple[str, float]] = {}

    def _discover(self) -> None:
        for root, pid in self.roots.items():
            with contextlib.suppress(psutil.NoSuchProcess):
                parent = psutil.Process(pid)
                for proc in [parent, *parent.children(recursive=True)]:
                    if proc.pid not in self._members:
                        with contextlib.suppress(psutil.Error):
                            self._members[proc.pid] = (group_of(root, proc.cmdline()), proc)
        for name, pid in self.alone.items():
            if pid not in self._members:
                with contextlib.suppress(psutil.NoSuchProcess):
                    self._members[pid] = (name, psutil.Process(pid))

    def sample(self) -> None:
        for pid, (group, proc) in list(self._members.items()):
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                del self._members[pid]
                continue
            self._used[pid] = (group, times.user + times.system)
        totals: dict[str, float] = {}
        for group, seconds in self._used.values():
            totals[group] = totals.get(group, 0.0) + seconds
        self.samples.append((time.time(), totals))

    def run(self) -> None:
        discovered = 0.0
        while not self.stop.is_set():
            if time.monotonic() - discovered >= self.rediscover_s:
                self._discover()
                discovered = time.monotonic()
            self.sample()
            self.stop.wait(self.interval)

    def between(self, start: float, end: float) -> dict[str, float]:
        return cpu_between(self.samples, start, end)


def _at(samples: list[tuple[float, dict[str, float]]], t: float, group: str) -> float:
    """A group's cumulative CPU at ``t``, linear between the samples around it (clamped to the first/last)."""
    before = max((s for s in samples if s[0] <= t), key=lambda s: s[0], default=samples[0])
    after = min((s for s in samples if s[0] >= t), key=lambda s: s[0], default=samples[-1])
    low, high = before[1].get(group, 0.0), after[1].get(group, 0.0)
    if after[0] == before[0]:
        return low
    return low + (high - low) * (t - before[0]) / (after[0] - before[0])


def cpu_between(samples: list[tuple[float, dict[str, float]]], start: float, end: float) -> dict[str, float]:
    """CPU seconds each group used from ``start`` to ``end``."""
    if not samples:
        return {}
    groups = {g for _, totals in samples for g in totals}
    return {g: max(0.0, _at(samples, end, g) - _at(samples, start, g)) for g in sorted(groups)}


def is_write_path(group: str) -> bool:
    return group.split(" ", 1)[0] in WRITE_PATH


def bursts(per_window: list[dict[str, Any]], between: Callable[[float, float], dict[str, float]],
           cores: int) -> dict[str, Any]:
    """Per window: when its first and last items were readable (s after its end), how busy the machine was
    from its end to its last item, and the CPU seconds each group spent in that time."""
    rows = []
    for w in per_window:
        seconds = w["max_s"]
        cpu = between(w["end"], w["end"] + seconds)
        total = sum(cpu.values())
        write = sum(v for g, v in cpu.items() if is_write_path(g))
        rows.append({"window": w["window"], "items": w["items"], "first_s": w["first_s"], "last_s": seconds,
                     "busy_percent": round(100 * total / seconds, 1) if seconds > 0 else None,
                     "write_path_cpu_s": round(write, 3), "others_cpu_s": round(total - write, 3),
                     "cpu_s": {g: round(v, 3) for g, v in cpu.items()}})
    return {"cores": cores, "windows": rows}


def ceiling_lines(summary: dict[str, Any], goal_s: float) -> list[str]:
    """The floor of the window-end delay on this machine, from the bursts' own figures (medians over windows)."""
    rows = [r for r in summary["windows"] if r["last_s"] > r["first_s"] and r["items"]]
    if not rows:
        return []
    cores = summary["cores"]
    first = statistics.median(r["first_s"] for r in rows)
    last = statistics.median(r["last_s"] for r in rows)
    busy = statistics.median(r["busy_percent"] for r in rows)
    write = statistics.median(r["write_path_cpu_s"] for r in rows)
    items = statistics.median(r["items"] for r in rows)
    others = statistics.median(r["others_cpu_s"] / r["last_s"] for r in rows)  # cores the rest kept
    spare = max(cores - others, 1e-9)
    floor = write / spare
    slowest = max(rows, key=lambda r: r["last_s"])
    slowest_spare = max(cores - slowest["others_cpu_s"] / slowest["last_s"], 1e-9)
    lines = [
        f"From each window's end to its last item (median {last:.2f} s; first item after {first:.2f} s) the machine "
        f"was {busy:.0f} % busy of {100 * cores} %. The write path ({', '.join(WRITE_PATH)}: the aggregator's final "
        f"invocation, the summary writer and their requests) used {write:.2f} CPU-s per window, "
        f"{1000 * write / items:.2f} ms per item; the other processes kept {others:.2f} of the {cores} cores "
        f"meanwhile, leaving it {spare:.2f}: {write:.2f} ÷ {spare:.2f} = {floor:.2f} s of work on the CPU it had "
        f"after each window's end.",
        f"The slowest window ({slowest['last_s']:.2f} s): {slowest['busy_percent']:.0f} % busy, write path "
        f"{slowest['write_path_cpu_s']:.2f} CPU-s, the others {cores - slowest_spare:.2f} cores.",
    ]
    if busy >= 90 * cores:
        # The p99 over items is set by the slowest windows: each must be done within the goal.
        need = goal_s * slowest_spare
        lines.append(
            f"The bursts are CPU-bound. For the slowest window to be done {goal_s:g} s after its end with the "
            f"share it had, its write path would have to cost at most {need:.2f} CPU-s "
            f"({1000 * need / slowest['items']:.2f} ms per item): "
            + (f"{slowest['write_path_cpu_s'] / need:.2f}× less than it did; the median window's "
               f"{write / (goal_s * spare):.2f}× less." if slowest["write_path_cpu_s"] > need else "it did."))
    return lines
