"""What the pipeline benchmarks watch while the stack runs: when each DynamoDB item becomes readable, each
process's CPU and memory, and the consumers' own lag (from their status files)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import psutil

from tests.support.stack import LocalStack

TABLE = "UnicornSensorData"


def _epoch(text: str) -> float:
    text = text[:19].replace("T", " ")
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


class ItemWatcher(threading.Thread):
    """Scans the table a few times a second and records when each item is first readable, and when it was last
    seen changing its count (an item merged from partial windows is final at its last change).

    A pass reads only the windows that can still gain items: from the oldest window with fewer items than
    unicorns (every unicorn reports in every window) on, so the watcher's own cost stays flat as the table grows
    instead of competing with the pipeline it measures. Each page is timestamped when it arrives."""

    def __init__(self, stack: LocalStack, unicorns: int) -> None:
        super().__init__(daemon=True)
        self.dynamodb = stack.client("dynamodb")
        self.unicorns = unicorns
        self.first_seen: dict[tuple[str, str], float] = {}
        self.settled: dict[tuple[str, str], float] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.window_end: dict[tuple[str, str], float] = {}
        self.since = ""  # StatusTime of the oldest window still incomplete
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.scan()
            self.stop.wait(0.2)

    def scan(self, everything: bool = False) -> None:
        kwargs: dict[str, Any] = {"TableName": TABLE, "ProjectionExpression": "#n, StatusTime, RecordCount, WindowEnd",
                                  "ExpressionAttributeNames": {"#n": "Name", "#t": "StatusTime"}}
        if self.since and not everything:
            kwargs["FilterExpression"] = "#t >= :since"
            kwargs["ExpressionAttributeValues"] = {":since": {"S": self.since}}
        else:
            del kwargs["ExpressionAttributeNames"]["#t"]
        while True:
            page = self.dynamodb.scan(**kwargs)
            now = time.time()
            for item in page["Items"]:
                key = (item["Name"]["S"], item["StatusTime"]["S"])
                self.first_seen.setdefault(key, now)
                count = int(item["RecordCount"]["N"])
                if self.counts.get(key) != count:
                    self.settled[key] = now
                self.counts[key] = count
                self.window_end[key] = _epoch(item["WindowEnd"]["S"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        per_window = Counter(window for _, window in self.first_seen)
        incomplete = [window for window, n in per_window.items() if n < self.unicorns]
        self.since = min(incomplete) if incomplete else max(per_window, default="")

    def delays(self, ended_by: float) -> tuple[list[float], list[dict[str, Any]]]:
        """Per item (window end → final count readable) and per window (its items and their worst delay), for
        the windows that ended by ``ended_by``."""
        items = {k: self.settled[k] - self.window_end[k] for k in self.settled if self.window_end[k] <= ended_by}
        windows: dict[str, list[float]] = {}
        for (_, window), delay in items.items():
            windows.setdefault(window, []).append(delay)
        per_window = [{"window": w, "items": len(d), "max_s": round(max(d), 3),
                       "median_s": round(sorted(d)[len(d) // 2], 3)} for w, d in sorted(windows.items())]
        return sorted(items.values()), per_window


class ResourceSampler(threading.Thread):
    """CPU and RSS of each root process and its children; ``alone`` roots without their children."""

    def __init__(self, roots: dict[str, int], alone: dict[str, int] | None = None) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.alone = alone or {}
        self.samples: list[dict[str, Any]] = []
        self.stop = threading.Event()

    def _processes(self) -> dict[str, list[psutil.Process]]:
        found: dict[str, list[psutil.Process]] = {}
        for name, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                found[name] = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        for name, pid in self.alone.items():
            with contextlib.suppress(psutil.NoSuchProcess):
                found[name] = [psutil.Process(pid)]
        return found

    def run(self) -> None:
        known: dict[int, psutil.Process] = {}

        def current() -> dict[str, list[psutil.Process]]:
            # Re-discovered every sample, so that workers started later (one per shard) are counted.
            groups = self._processes()
            for procs in groups.values():
                for i, proc in enumerate(procs):
                    if proc.pid not in known:
                        known[proc.pid] = proc
                        with contextlib.suppress(psutil.NoSuchProcess):
                            proc.cpu_percent(None)
                    procs[i] = known[proc.pid]
            return groups

        current()
        while not self.stop.wait(5.0):
            sample: dict[str, Any] = {"t": time.time()}
            for name, procs in current().items():
                cpu, rss, mapped = 0.0, 0, 0
                for proc in procs:
                    try:
                        cpu += proc.cpu_percent(None)
                        memory = proc.memory_info()
                    except psutil.NoSuchProcess:
                        continue
                    rss += memory.rss
                    # resident pages of mapped files (LevelDB maps its tables): page cache the kernel
                    # can reclaim, unlike the process's own (anonymous) memory
                    mapped += getattr(memory, "shared", 0)
                sample[name] = {"cpu_percent": cpu, "rss_mb": rss / 2**20, "file_mb": mapped / 2**20}
            self.samples.append(sample)


def consumer_lag_ms(stack: LocalStack, consumer: str) -> int:
    """The consumer's own lag from its status file (``lambda`` or ``firehose``): the age of the oldest record
    it has read but not yet finished with, the largest over its shards."""
    path = stack.data_dir / consumer / "status.json"
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0
    groups = status.get("mappings") or status.get("streams") or {}
    return max((int(s.get("lag_ms") or 0) for g in groups.values() for s in (g.get("shards") or {}).values()
                if not s.get("finished")), default=0)


class LagSampler(threading.Thread):
    """The Lambda runtime's and the Firehose's lag, once a second."""

    def __init__(self, stack: LocalStack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.samples: list[dict[str, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append({"t": time.time(), "lambda_ms": consumer_lag_ms(self.stack, "lambda"),
                                 "firehose_ms": consumer_lag_ms(self.stack, "firehose")})

    def max_s(self, key: str, until: float | None = None) -> float:
        return round(max((s[key] for s in self.samples if until is None or s["t"] <= until), default=0) / 1000, 1)


def archive_delivered(stack: LocalStack) -> int:
    """Records the Firehose reports delivered to S3."""
    path = stack.data_dir / "firehose" / "status.json"
    streams = json.loads(path.read_text()).get("streams", {}) if path.exists() else {}
    return sum(d.get("records_delivered", 0) for d in streams.values())


def component_pids(stack: LocalStack) -> dict[str, int]:
    state = json.loads((stack.data_dir / "run" / "stack.json").read_text())
    return {name: c["pid"] for name, c in state["components"].items() if c["pid"]}


def summarize_resources(samples: list[dict[str, Any]]) -> dict[str, Any]:
    names = {k for s in samples for k in s if k != "t"}
    out: dict[str, Any] = {}
    for name in sorted(names):
        cpu = [s[name]["cpu_percent"] for s in samples if name in s]
        rss = [s[name]["rss_mb"] for s in samples if name in s]
        out[name] = {"cpu_percent_mean": round(sum(cpu) / len(cpu), 1), "cpu_percent_max": round(max(cpu), 1),
                     "rss_mb_max": round(max(rss), 1)}
    return out
