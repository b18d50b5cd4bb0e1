"""What the pipeline benchmarks watch while the stack runs: when each DynamoDB item becomes readable, each
process's CPU and memory, and the consumers' own lag (from their status files)."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from datetime import UTC, datetime
from typing import Any

import psutil

from streaming.lambdas.timefmt import format_epoch_ms
from tests.support.stack import LocalStack

TABLE = "UnicornSensorData"


def _epoch(text: str) -> float:
    text = text[:19].replace("T", " ")
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


class ItemWatcher(threading.Thread):
    """Records when each summary item is first readable with its final count, reading only what it has not
    seen yet: its own reads must not compete with the pipeline it measures.

    Every unicorn reports in every window, so the items to expect are known: (name, window start) for each name
    of the fleet and each window that has ended since the watcher began. Every 0.2 s, for each ended window not
    yet complete, it reads with BatchGetItem a sample of the missing keys (one in ``SAMPLE``) until any item of
    the window is readable, then all of its missing keys. (A Scan reads the whole table whatever its filter:
    dynalite spends ~7 µs per item, ~70 ms per pass at 10,000 items, about 19 % of a core at five passes a second
    over a 10-minute run; a key costs ~45 µs, hence the sample while a window's output has not started.) Before
    the first sampled item is seen, an earlier item of the same window is timed at that pass: later, never
    earlier. Once a window's output has started, each pass reads at most ``PER_PASS`` of its missing keys, the
    next ones in turn: reading all of them at every pass cost dynalite, the gateway and the watcher ~0.75
    CPU-s during each 1,000-item burst it was timing; the last keys, the ones that set the p99, are still read
    at every pass. A window still empty when its successor is complete held no records (the producer started
    after it) and is dropped. ``scan()`` at the end times any count that changed since (an item merged
    from partial windows) at that moment: again later, never earlier."""

    SAMPLE = 100
    PER_PASS = 100

    def __init__(self, stack: LocalStack, names: list[str], window_s: int) -> None:
        super().__init__(daemon=True)
        self.dynamodb = stack.client("dynamodb")
        self.names = names
        self.window_s = window_s
        self.first_seen: dict[tuple[str, str], float] = {}
        self.settled: dict[tuple[str, str], float] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.window_end: dict[tuple[str, str], float] = {}
        self.missing: dict[str, set[str]] = {}  # window start (StatusTime) -> names not seen yet
        self.cursor: dict[str, int] = {}  # window start -> index in names where its next pass begins
        self.next_window = math.floor(time.time() / window_s) * window_s
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.read_missing()
                self.stop.wait(0.2)
        except BaseException as error:  # re-raised by the benchmark: its delays would be wrong
            self.error = error
            raise

    def open_ended_windows(self, now: float) -> None:
        while self.next_window + self.window_s <= now:
            self.missing[format_epoch_ms(self.next_window * 1000)] = set(self.names)
            self.next_window += self.window_s

    def keys_to_read(self) -> list[tuple[str, str]]:
        """The missing keys of each open window: a sample until the window's output has started."""
        keys = []
        for window, missing in self.missing.items():
            if len(missing) == len(self.names):
                keys += [(name, window) for name in self.names[::self.SAMPLE]]
                continue
            start = self.cursor.get(window, 0)
            order = self.names[start:] + self.names[:start]
            chosen = [name for name in order if name in missing][:self.PER_PASS]
            if chosen:
                self.cursor[window] = (self.names.index(chosen[-1]) + 1) % len(self.names)
            keys += [(name, window) for name in chosen]
        return keys

    def read_missing(self) -> None:
        self.open_ended_windows(time.time())
        keys = self.keys_to_read()
        for i in range(0, len(keys), 100):
            request = {"Keys": [{"Name": {"S": n}, "StatusTime": {"S": w}} for n, w in keys[i:i + 100]],
                       "ProjectionExpression": "#n, StatusTime, RecordCount, WindowEnd",
                       "ExpressionAttributeNames": {"#n": "Name"}}
            page = self.dynamodb.batch_get_item(RequestItems={TABLE: request})  # UnprocessedKeys: next pass
            now = time.time()
            for item in page["Responses"].get(TABLE, []):
                self.record(item, now)
        self.close_complete_windows()

    def close_complete_windows(self) -> None:
        windows = sorted(self.missing)
        for i, window in enumerate(windows):
            empty = len(self.missing[window]) == len(self.names)
            successor_complete = i + 1 < len(windows) and not self.missing[windows[i + 1]]
            if not self.missing[window] or (empty and successor_complete):
                del self.missing[window]

    def record(self, item: dict[str, Any], now: float) -> None:
        key = (item["Name"]["S"], item["StatusTime"]["S"])
        self.first_seen.setdefault(key, now)
        count = int(item["RecordCount"]["N"])
        if self.counts.get(key) != count:
            self.settled[key] = now
        self.counts[key] = count
        self.window_end[key] = _epoch(item["WindowEnd"]["S"])
        if key[1] in self.missing:
            self.missing[key[1]].discard(key[0])

    def scan(self) -> None:
        """Every item of the table, once (at the end)."""
        kwargs: dict[str, Any] = {"TableName": TABLE, "ProjectionExpression": "#n, StatusTime, RecordCount, WindowEnd",
                                  "ExpressionAttributeNames": {"#n": "Name"}}
        while True:
            page = self.dynamodb.scan(**kwargs)
            now = time.time()
            for item in page["Items"]:
                self.record(item, now)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delays(self, ended_by: float) -> tuple[list[float], list[dict[str, Any]]]:
        """Per item (window end → final count readable) and per window (its items and their worst delay), for
        the windows that ended by ``ended_by``."""
        items = {k: self.settled[k] - self.window_end[k] for k in self.settled if self.window_end[k] <= ended_by}
        windows: dict[str, list[float]] = {}
        firsts: dict[str, float] = {}
        ends: dict[str, float] = {}
        for key, delay in items.items():
            window = key[1]
            windows.setdefault(window, []).append(delay)
            first = self.first_seen[key] - self.window_end[key]
            firsts[window] = min(first, firsts.get(window, first))
            ends[window] = self.window_end[key]
        per_window = [{"window": w, "end": ends[w], "items": len(d), "first_s": round(firsts[w], 3),
                       "max_s": round(max(d), 3), "median_s": round(sorted(d)[len(d) // 2], 3)}
                      for w, d in sorted(windows.items())]
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


def components(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """Each component as the supervisor's run file describes it (pid, argv, restarts...)."""
    return stack.run_state()["components"]


def component_pids(stack: LocalStack) -> dict[str, int]:
    return {name: c["pid"] for name, c in components(stack).items() if c["pid"]}


def component_restarts(stack: LocalStack) -> dict[str, int]:
    """The processes the supervisor restarted (an exit it did not ask for), and how often."""
    return {name: c["restarts"] for name, c in components(stack).items() if c.get("restarts")}


def restart_line(restarts: dict[str, int]) -> tuple[str, bool]:
    """A run's stability as a goal line: a restarted process means lost work and a CPU table missing its successor."""
    if not restarts:
        return "every process up for the whole run: none restarted", True
    named = ", ".join(f"{name} {count}×" for name, count in sorted(restarts.items()))
    return f"every process up for the whole run: restarted {named} (their logs say why)", False


def summarize_resources(samples: list[dict[str, Any]]) -> dict[str, Any]:
    names = {k for s in samples for k in s if k != "t"}
    out: dict[str, Any] = {}
    for name in sorted(names):
        cpu = [s[name]["cpu_percent"] for s in samples if name in s]
        rss = [s[name]["rss_mb"] for s in samples if name in s]
        out[name] = {"cpu_percent_mean": round(sum(cpu) / len(cpu), 1), "cpu_percent_max": round(max(cpu), 1),
                     "rss_mb_max": round(max(rss), 1)}
    return out
