"""Benchmark: the local endpoint (kinesalite + dynalite behind the gateway) against moto's own server.

Measured in one run, side by side, on the same machine:

1. Kinesis PutRecords into one shard (batches of 500 unicorn-shaped JSON records): the rate per
   checkpoint as the shard fills, with 1 and several concurrent writers. The endpoint goes to the full
   target (1M records); moto goes until it reaches the target or its time budget runs out.
   Every acknowledged record is then looked for when the shard is read back (lost records).
2. Kinesis GetRecords (Limit 10000) reading each shard back from TRIM_HORIZON.
3. DynamoDB: BatchWriteItem of the ``UnicornSensorData``-shaped table (Name HASH, StatusTime RANGE;
   unicorns x minutes) with parallel writers, and Query latency (Name = :n AND StatusTime BETWEEN,
   60 items) at checkpoints as the table grows; moto until its time budget runs out.

CPU and RSS of every process of each backend (and of this client) are recorded per phase with psutil.
Results: ``bench/results/endpoint.json`` and ``endpoint.md`` (``endpoint-quick.*`` with ``--quick``).

    uv run python -m bench endpoint            # the full run (20-40 minutes on 2 cores)
    uv run python -m bench endpoint --quick    # a smoke run (< 60 s)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import psutil
from botocore.config import Config

from bench import RESULTS_DIR, add_result_options, commit_of, host, result_stem
from localaws.settings import DEFAULT_REGION, LOCAL_CREDENTIALS, REPO_ROOT
from localaws.supervisor.preflight import free_port
from tests.support.stack import LocalStack

NAME = "endpoint"
DESCRIPTION = "Kinesis put/get and DynamoDB load/query through the local endpoint vs moto's server"

KINESIS_BATCH = 500
KINESIS_GET_LIMIT = 10_000
DDB_BATCH = 25
QUERY_MINUTES = 60
TABLE = "UnicornSensorData"
BASE_TIME = datetime(2026, 11, 25, 0, 0, 0)
OURS = "endpoint"
MOTO = "moto"


# ---------------------------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------------------------
@dataclass
class Settings:
    quick: bool = False
    kinesis_records: int = 1_000_000
    kinesis_checkpoint: int = 100_000
    kinesis_writers: tuple[int, ...] = (1, 4)
    moto_kinesis_budget_s: float = 600.0  # the 1-writer moto run
    moto_kinesis_concurrent_budget_s: float = 180.0  # each multi-writer moto run
    unicorns: int = 1000
    minutes: int = 1000
    ddb_writers: int = 4
    ddb_checkpoints: tuple[int, ...] = (60_000, 100_000, 250_000, 500_000, 1_000_000)
    queries_final: int = 500
    queries_checkpoint: int = 100
    moto_ddb_budget_s: float = 240.0  # loading time; queries at checkpoints come on top
    moto_queries_max: int = 50
    moto_query_budget_s: float = 30.0  # per checkpoint (at least 5 queries)
    parts: tuple[str, ...] = ("kinesis", "dynamodb")
    backends: tuple[str, ...] = (OURS, MOTO)
    keep_data: bool = False
    command: str = "python -m bench endpoint"

    @classmethod
    def quick_settings(cls) -> Settings:
        return cls(
            quick=True, kinesis_records=5_000, kinesis_checkpoint=2_500, moto_kinesis_budget_s=3.0,
            moto_kinesis_concurrent_budget_s=2.0, unicorns=20, minutes=150, ddb_checkpoints=(1_500,),
            queries_final=50, queries_checkpoint=30, moto_ddb_budget_s=4.0, moto_queries_max=10,
            moto_query_budget_s=2.0,
        )

    @property
    def ddb_items(self) -> int:
        return self.unicorns * self.minutes


# ---------------------------------------------------------------------------------------------
# clients, backends and resource monitoring
# ---------------------------------------------------------------------------------------------
def make_client(endpoint_url: str, service: str) -> Any:
    """A client of its own (one per thread): no retries, so an acknowledged record was written once."""
    session = boto3.session.Session()
    return session.client(
        service, endpoint_url=endpoint_url, region_name=DEFAULT_REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10,
                      read_timeout=900, max_pool_connections=4),
    )


class MotoServer:
    """moto's own server (``moto_server``), as a developer would run it, in a subprocess."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        executable = Path(sys.executable).parent / "moto_server"
        argv = [str(executable)] if executable.exists() else [sys.executable, "-m", "moto.server"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*argv, "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO_ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}: see {self.log_path}")
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"moto_server did not listen on {self.port} in {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def pids(self) -> dict[str, int]:
        assert self.process is not None
        return {"moto_server": self.process.pid}


def endpoint_pids(stack: LocalStack) -> dict[str, int]:
    assert stack.process is not None
    state = json.loads((stack.data_dir / "run" / "stack.json").read_text())
    pids = {"supervisor": stack.process.pid}
    names = {"kinesis": "kinesalite", "dynamodb": "dynalite", "moto": "moto_host", "gateway": "gateway"}
    for name, component in state["components"].items():
        if component.get("pid"):
            pids[names.get(name, name)] = component["pid"]
    return pids


class ResourceMonitor:
    """Samples the RSS of the watched processes every ``interval`` s; CPU comes from cpu_times deltas."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.lock = threading.Lock()
        self.processes: dict[str, psutil.Process] = {}
        self.peak_rss: dict[str, int] = {}
        self.peak_total_rss = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="resource-monitor")
        self.thread.start()

    def watch(self, pids: dict[str, int]) -> None:
        with self.lock:
            self.processes = {"bench client": psutil.Process(os.getpid())}
            for name, pid in pids.items():
                with contextlib.suppress(psutil.Error):
                    self.processes[name] = psutil.Process(pid)
            self.peak_rss = {}
            self.peak_total_rss = 0

    def _sample(self) -> None:
        with self.lock:
            total = 0
            for name, process in self.processes.items():
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss)
                if name != "bench client":
                    total += rss
            self.peak_total_rss = max(self.peak_total_rss, total)

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            self._sample()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)

    @contextlib.contextmanager
    def phase(self) -> Iterator[dict[str, Any]]:
        """Yields a dict filled, when the block ends, with each process's CPU and RSS over the block."""
        def cpu_seconds(process: psutil.Process) -> float | None:
            try:
                times = process.cpu_times()
            except psutil.Error:
                return None
            return times.user + times.system

        with self.lock:
            processes = dict(self.processes)
            self.peak_rss = {}
            self.peak_total_rss = 0
        start_cpu = {name: cpu_seconds(p) for name, p in processes.items()}
        start_machine = psutil.cpu_times()
        started = time.perf_counter()
        out: dict[str, Any] = {}
        try:
            yield out
        finally:
            self._sample()
            wall = time.perf_counter() - started
            end_machine = psutil.cpu_times()
            per_process: dict[str, Any] = {}
            for name, process in processes.items():
                before, after = start_cpu[name], cpu_seconds(process)
                try:
                    rss_end = process.memory_info().rss
                except psutil.Error:
                    rss_end = 0
                per_process[name] = {
                    "cpu_pct": round(100 * (after - before) / wall, 1) if before is not None and after else None,
                    "rss_peak_mb": round(self.peak_rss.get(name, rss_end) / 2**20, 1),
                    "rss_end_mb": round(rss_end / 2**20, 1),
                }
            idle_before = start_machine.idle + getattr(start_machine, "iowait", 0.0)
            idle_after = end_machine.idle + getattr(end_machine, "iowait", 0.0)
            busy = (sum(end_machine) - idle_after) - (sum(start_machine) - idle_before)
            out.update({
                "wall_s": round(wall, 2),
                "processes": per_process,
                "backend_cpu_pct": round(sum(v["cpu_pct"] or 0 for k, v in per_process.items()
                                             if k != "bench client"), 1),
                "backend_rss_peak_mb": round(self.peak_total_rss / 2**20, 1),
                "machine_busy_pct": round(100 * busy / wall, 1),  # of all cores: 200 % = both busy
            })


class Progress:
    """Counts acknowledged records/items across writers; notes the elapsed time at every ``step``."""

    def __init__(self, label: str, step: int, log_step: int, start_count: int = 0) -> None:
        self.label = label
        self.step = step
        self.log_step = log_step
        self.lock = threading.Lock()
        self.count = start_count
        self.started = time.perf_counter()
        self.curve: list[tuple[int, float]] = [(start_count, 0.0)]
        self.next = (start_count // step + 1) * step

    def add(self, n: int) -> None:
        with self.lock:
            self.count += n
            now = time.perf_counter() - self.started
            while self.count >= self.next:
                self.curve.append((self.next, round(now, 3)))
                if self.next % self.log_step == 0:
                    previous = next((c for c in reversed(self.curve[:-1]) if c[0] <= self.next - self.log_step),
                                    self.curve[0])
                    rate = (self.next - previous[0]) / max(now - previous[1], 1e-9)
                    log(f"{self.label}: {self.next:,} in {now:,.1f} s ({rate:,.0f}/s over the last "
                        f"{self.next - previous[0]:,})")
                self.next += self.step

    def finish(self) -> list[tuple[int, float]]:
        with self.lock:
            now = round(time.perf_counter() - self.started, 3)
            if self.curve[-1][0] != self.count:
                self.curve.append((self.count, now))
            return list(self.curve)


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def rates_per_checkpoint(curve: list[tuple[int, float]], checkpoint: int) -> list[dict[str, Any]]:
    """The rate between consecutive checkpoints of the curve (and the partial last stretch)."""
    points = [p for p in curve if p[0] % checkpoint == 0 or p is curve[-1]]
    rows = []
    for (c0, t0), (c1, t1) in zip(points, points[1:], strict=False):
        if c1 > c0:
            rows.append({"from": c0, "to": c1, "seconds": round(t1 - t0, 2),
                         "rate": round((c1 - c0) / max(t1 - t0, 1e-9), 1)})
    return rows


# ---------------------------------------------------------------------------------------------
# Kinesis
# ---------------------------------------------------------------------------------------------
def unicorn_record(rnd: random.Random, unicorn: int, second: int) -> bytes:
    """A record shaped like the workshop producer's (FACTS.md), ~150 bytes."""
    status_time = (BASE_TIME + timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f'{{"Distance":{rnd.uniform(29, 31):.2f},"HealthPoints":{rnd.randint(80, 170)},'
        f'"Latitude":{40.7 + rnd.random() / 10:.4f},"Longitude":{-74.0 + rnd.random() / 10:.4f},'
        f'"MagicPoints":{rnd.randint(80, 170)},"Name":"Unicorn-{unicorn:04d}",'
        f'"StatusTime":"{status_time}.{rnd.randrange(1000):03d}"}}'
    ).encode()


def wait_stream_active(client: Any, stream: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"]
        if status == "ACTIVE":
            return
        time.sleep(0.1)
    raise RuntimeError(f"stream {stream} not ACTIVE after {timeout:.0f}s")


@dataclass
class Acked:
    """Acknowledged records: sequence number -> crc32 of the data (a second record acknowledged with
    the same sequence number, which moto does under concurrency, goes to ``extra``)."""

    records: dict[int, int] = field(default_factory=dict)
    extra: dict[int, list[int]] = field(default_factory=dict)
    count: int = 0
    duplicate_sequence_numbers: int = 0

    def merge(self, pairs: list[tuple[int, int]]) -> None:
        for seq, crc in pairs:
            self.count += 1
            if seq in self.records:
                self.duplicate_sequence_numbers += 1
                self.extra.setdefault(seq, []).append(crc)
            else:
                self.records[seq] = crc

    def match(self, seq: int, crc: int) -> bool:
        """Consume the acknowledged record (seq, crc) if there is one."""
        stored = self.records.get(seq)
        if stored is None:
            return False
        if stored == crc:
            others = self.extra.pop(seq, [])
            if others:
                self.records[seq] = others.pop()
                if others:
                    self.extra[seq] = others
            else:
                del self.records[seq]
            return True
        others = self.extra.get(seq, [])
        if crc in others:
            others.remove(crc)
            if not others:
                del self.extra[seq]
            return True
        return False


def kinesis_put(endpoint_url: str, stream: str, writers: int, target: int, budget_s: float | None,
                settings: Settings, label: str) -> tuple[dict[str, Any], Acked]:
    admin = make_client(endpoint_url, "kinesis")
    admin.create_stream(StreamName=stream, ShardCount=1)
    wait_stream_active(admin, stream)
    quotas = [target // writers + (1 if w < target % writers else 0) for w in range(writers)]
    clients = [make_client(endpoint_url, "kinesis") for _ in range(writers)]  # created before the clock starts
    progress = Progress(label, settings.kinesis_checkpoint // 10, settings.kinesis_checkpoint)
    deadline = None if budget_s is None else time.monotonic() + budget_s
    stop = threading.Event()
    acked_by_writer: list[list[tuple[int, int]]] = [[] for _ in range(writers)]
    errors: list[str] = []
    stats = {"calls": 0, "failed_entries": 0, "bytes": 0}
    stats_lock = threading.Lock()

    def writer(w: int) -> None:
        client = clients[w]
        rnd = random.Random(w)
        acked = acked_by_writer[w]
        pending: list[tuple[bytes, int, str]] = []
        produced = 0
        calls = failed = size = 0
        try:
            while (produced < quotas[w] or pending) and not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                fresh = min(KINESIS_BATCH - len(pending), quotas[w] - produced)
                batch = list(pending)
                for i in range(produced, produced + fresh):
                    unicorn = (i * writers + w) % settings.unicorns
                    data = unicorn_record(rnd, unicorn, (i * writers + w) // settings.unicorns)
                    batch.append((data, zlib.crc32(data), f"Unicorn-{unicorn:04d}"))
                produced += fresh
                response = client.put_records(
                    StreamName=stream, Records=[{"Data": d, "PartitionKey": k} for d, _, k in batch]
                )
                calls += 1
                pending = []
                for (data, crc, key), entry in zip(batch, response["Records"], strict=True):
                    if "SequenceNumber" in entry:
                        acked.append((int(entry["SequenceNumber"]), crc))
                        size += len(data)
                    else:
                        pending.append((data, crc, key))
                failed += len(pending)
                progress.add(len(batch) - len(pending))
        except Exception as error:  # noqa: BLE001 - reported in the results, the run goes on
            errors.append(f"writer {w}: {type(error).__name__}: {error}")
            stop.set()
        finally:
            with stats_lock:
                stats["calls"] += calls
                stats["failed_entries"] += failed
                stats["bytes"] += size

    threads = [threading.Thread(target=writer, args=(w,), name=f"{label}-w{w}") for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    curve = progress.finish()
    acked = Acked()
    for pairs in acked_by_writer:
        acked.merge(pairs)
    acked_by_writer.clear()
    elapsed = curve[-1][1]
    result = {
        "stream": stream,
        "writers": writers,
        "target": target,
        "budget_s": budget_s,
        "acknowledged": acked.count,
        "reached_target": acked.count >= target,
        "seconds": elapsed,
        "rate": round(acked.count / max(elapsed, 1e-9), 1),
        "calls": stats["calls"],
        "failed_entries_retried": stats["failed_entries"],
        "mean_record_bytes": round(stats["bytes"] / max(acked.count, 1), 1),
        "duplicate_acknowledged_sequence_numbers": acked.duplicate_sequence_numbers,
        "per_checkpoint": rates_per_checkpoint(curve, settings.kinesis_checkpoint),
        "curve": curve,
        "errors": errors,
    }
    log(f"{label}: {acked.count:,} records acknowledged in {elapsed:,.1f} s ({result['rate']:,.0f} rec/s)")
    return result, acked


def kinesis_read(endpoint_url: str, stream: str, acked: Acked, label: str) -> dict[str, Any]:
    client = make_client(endpoint_url, "kinesis")
    shard = client.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    read = matched = out_of_order = calls = empty_in_a_row = size = 0
    call_seconds = 0.0
    last_seq = -1
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        page = client.get_records(ShardIterator=iterator, Limit=KINESIS_GET_LIMIT)
        call_seconds += time.perf_counter() - t0
        calls += 1
        records = page["Records"]
        for record in records:
            seq = int(record["SequenceNumber"])
            data = record["Data"]
            size += len(data)
            if seq <= last_seq:
                out_of_order += 1
            last_seq = seq
            if acked.match(seq, zlib.crc32(data)):
                matched += 1
        read += len(records)
        empty_in_a_row = 0 if records else empty_in_a_row + 1
        if not records and (page.get("MillisBehindLatest", 0) == 0 or empty_in_a_row >= 3):
            break
        iterator = page["NextShardIterator"]
    wall = time.perf_counter() - started
    result = {
        "stream": stream,
        "records_read": read,
        "calls": calls,
        "seconds": round(wall, 2),
        "seconds_in_calls": round(call_seconds, 2),
        "rate": round(read / max(wall, 1e-9), 1),
        "mb_per_s": round(size / 2**20 / max(wall, 1e-9), 2),
        "acknowledged": acked.count,
        "matched": matched,
        "lost": acked.count - matched,
        "unexpected_or_duplicate_reads": read - matched,
        "out_of_order": out_of_order,
    }
    log(f"{label}: read {read:,} records in {wall:,.1f} s ({result['rate']:,.0f} rec/s); "
        f"lost {result['lost']:,} of {acked.count:,} acknowledged")
    return result


def kinesis_suite(backend: str, endpoint_url: str, settings: Settings, monitor: ResourceMonitor) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    for writers in settings.kinesis_writers:
        label = f"{backend} kinesis {writers}w"
        if backend == MOTO:
            budget: float | None = (settings.moto_kinesis_budget_s if writers == 1
                                    else settings.moto_kinesis_concurrent_budget_s)
        else:
            budget = None
        run: dict[str, Any] = {}
        runs[f"{writers}w"] = run
        stream = f"bench-{writers}w"
        try:
            with monitor.phase() as put_resources:
                put, acked = kinesis_put(endpoint_url, stream, writers, settings.kinesis_records, budget,
                                         settings, label)
            run["put"] = {**put, "resources": put_resources}
            with monitor.phase() as get_resources:
                get = kinesis_read(endpoint_url, stream, acked, label)
            run["get"] = {**get, "resources": get_resources}
            del acked
        except Exception as error:  # noqa: BLE001
            run["error"] = f"{type(error).__name__}: {error}"
            log(f"{label}: FAILED {run['error']}\n{traceback.format_exc()}")
    return runs


# ---------------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------------
def create_table(client: Any) -> str:
    keys = {
        "TableName": TABLE,
        "KeySchema": [{"AttributeName": "Name", "KeyType": "HASH"},
                      {"AttributeName": "StatusTime", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "Name", "AttributeType": "S"},
                                 {"AttributeName": "StatusTime", "AttributeType": "S"}],
    }
    try:
        client.create_table(**keys, BillingMode="PAY_PER_REQUEST")
        mode = "PAY_PER_REQUEST"
    except client.exceptions.ClientError:
        client.create_table(**keys, ProvisionedThroughput={"ReadCapacityUnits": 1000, "WriteCapacityUnits": 1000})
        mode = "PROVISIONED"
    deadline = time.monotonic() + 60
    while client.describe_table(TableName=TABLE)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {TABLE} not ACTIVE after 60s")
        time.sleep(0.1)
    return mode


def status_time(minute: int) -> str:
    return (BASE_TIME + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S.000")


def summary_item(rnd: random.Random, unicorn: int, minute: int) -> dict[str, Any]:
    """An item like the summary writer's: one unicorn's minute of the aggregated stream."""
    magic, health = rnd.randint(90, 170), rnd.randint(90, 170)
    return {
        "Name": {"S": f"Unicorn-{unicorn:04d}"},
        "StatusTime": {"S": status_time(minute)},
        "Distance": {"N": str(rnd.randint(1700, 1870))},
        "MinMagicPoints": {"N": str(magic - rnd.randint(0, 3))},
        "MaxMagicPoints": {"N": str(magic + rnd.randint(0, 3))},
        "MinHealthPoints": {"N": str(health - rnd.randint(0, 3))},
        "MaxHealthPoints": {"N": str(health + rnd.randint(0, 3))},
    }


def ddb_load(clients: list[Any], start: int, end: int, settings: Settings, progress: Progress,
             deadline: float | None) -> dict[str, Any]:
    """Write items [start, end) (minute-major: item k is unicorn k % U at minute k // U) with parallel
    BatchWriteItem writers, retrying UnprocessedItems with exponential backoff like the workshop's Lambda."""
    lock = threading.Lock()
    cursor = [start]
    written = [0]
    retries = [0]
    errors: list[str] = []
    stop = threading.Event()

    def writer(w: int) -> None:
        client = clients[w]
        rnd = random.Random(start * 31 + w)
        try:
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    return
                with lock:
                    k0 = cursor[0]
                    if k0 >= end:
                        return
                    k1 = min(k0 + DDB_BATCH, end)
                    cursor[0] = k1
                requests = [{"PutRequest": {"Item": summary_item(rnd, k % settings.unicorns, k // settings.unicorns)}}
                            for k in range(k0, k1)]
                attempt = 0
                while requests:
                    response = client.batch_write_item(RequestItems={TABLE: requests})
                    unprocessed = response.get("UnprocessedItems", {}).get(TABLE, [])
                    done = len(requests) - len(unprocessed)
                    with lock:
                        written[0] += done
                    progress.add(done)
                    requests = unprocessed
                    if requests:
                        with lock:
                            retries[0] += 1
                        time.sleep(min(2.0, 0.05 * 2**attempt))
                        attempt += 1
        except Exception as error:  # noqa: BLE001
            errors.append(f"writer {w}: {type(error).__name__}: {error}")
            stop.set()

    started = time.perf_counter()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError("; ".join(errors))
    return {"from": start, "to": start + written[0], "written": written[0], "seconds": round(seconds, 2),
            "rate": round(written[0] / max(seconds, 1e-9), 1), "unprocessed_retries": retries[0]}


def ddb_queries(endpoint_url: str, settings: Settings, items: int, count: int, rnd: random.Random,
                time_cap_s: float | None = None, min_queries: int = 5, warmup: int = 5) -> dict[str, Any]:
    client = make_client(endpoint_url, "dynamodb")
    full_minutes = items // settings.unicorns
    latest_start = max(0, full_minutes - QUERY_MINUTES)

    def one() -> tuple[float, int]:
        unicorn, minute = rnd.randrange(settings.unicorns), rnd.randint(0, latest_start)
        t0 = time.perf_counter()
        response = client.query(
            TableName=TABLE,
            KeyConditionExpression="#n = :n AND StatusTime BETWEEN :a AND :b",
            ExpressionAttributeNames={"#n": "Name"},
            ExpressionAttributeValues={":n": {"S": f"Unicorn-{unicorn:04d}"},
                                       ":a": {"S": status_time(minute)},
                                       ":b": {"S": status_time(minute + QUERY_MINUTES - 1)}},
        )
        return (time.perf_counter() - t0) * 1000, response["Count"]

    for _ in range(warmup):
        one()
    latencies: list[float] = []
    counts: list[int] = []
    started = time.perf_counter()
    for _ in range(count):
        latency, n = one()
        latencies.append(latency)
        counts.append(n)
        if time_cap_s is not None and time.perf_counter() - started > time_cap_s and len(latencies) >= min_queries:
            break
    expected = min(QUERY_MINUTES, full_minutes)
    return {
        "items_in_table": items,
        "queries": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p90_ms": round(percentile(latencies, 90), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(sum(latencies) / len(latencies), 2),
        "max_ms": round(max(latencies), 2),
        "mean_items_returned": round(sum(counts) / len(counts), 1),
        "queries_with_wrong_count": sum(1 for n in counts if n != expected),
        "seconds": round(time.perf_counter() - started, 2),
    }


def dynamodb_suite(backend: str, endpoint_url: str, settings: Settings, monitor: ResourceMonitor) -> dict[str, Any]:
    label = f"{backend} dynamodb"
    result: dict[str, Any] = {"target_items": settings.ddb_items, "writers": settings.ddb_writers}
    moto = backend == MOTO
    budget = settings.moto_ddb_budget_s if moto else None
    rnd = random.Random(7)
    try:
        result["billing_mode"] = create_table(make_client(endpoint_url, "dynamodb"))
        checkpoints = sorted({c for c in settings.ddb_checkpoints if c < settings.ddb_items} | {settings.ddb_items})
        clients = [make_client(endpoint_url, "dynamodb") for _ in range(settings.ddb_writers)]
        progress = Progress(f"{label} load", max(1, settings.ddb_items // 100), max(1, settings.ddb_items // 10))
        loads: list[dict[str, Any]] = []
        queries: list[dict[str, Any]] = []
        result["loads"], result["queries"] = loads, queries
        load_seconds = 0.0
        loaded = 0
        for checkpoint in checkpoints:
            deadline = None if budget is None else time.monotonic() + max(0.0, budget - load_seconds)
            with monitor.phase() as load_resources:
                load = ddb_load(clients, loaded, checkpoint, settings, progress, deadline)
            loads.append({**load, "resources": load_resources})
            load_seconds += load["seconds"]
            loaded = load["to"]
            reached = loaded >= checkpoint
            final = checkpoint == checkpoints[-1] or not reached
            if loaded < settings.unicorns * QUERY_MINUTES:
                log(f"{label}: only {loaded:,} items loaded, too few for {QUERY_MINUTES}-item queries")
                break
            with monitor.phase() as query_resources:
                if moto:
                    q = ddb_queries(endpoint_url, settings, loaded, settings.moto_queries_max, rnd,
                                    time_cap_s=settings.moto_query_budget_s, warmup=1)
                else:
                    q = ddb_queries(endpoint_url, settings, loaded,
                                    settings.queries_final if final else settings.queries_checkpoint, rnd)
            queries.append({**q, "resources": query_resources})
            log(f"{label}: {loaded:,} items: query p50 {q['p50_ms']:.1f} ms, p99 {q['p99_ms']:.1f} ms "
                f"({q['queries']} queries, {q['mean_items_returned']:.0f} items each)")
            if not reached:
                log(f"{label}: time budget of {budget:.0f} s spent at {loaded:,} items")
                break
        result["items_loaded"] = loaded
        result["load_seconds"] = round(load_seconds, 2)
        result["load_rate"] = round(loaded / max(load_seconds, 1e-9), 1)
        result["load_budget_s"] = budget
        # (items, seconds since loading began): the clock runs on through the queries at checkpoints,
        # so use "loads" (each stage timed on its own) for load rates
        result["curve"] = progress.finish()
    except Exception as error:  # noqa: BLE001
        result["error"] = f"{type(error).__name__}: {error}"
        log(f"{label}: FAILED {result['error']}\n{traceback.format_exc()}")
    return result


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------
def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_info() -> dict[str, Any]:
    cpu_model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break

    def node_package(name: str) -> str:
        try:
            package = REPO_ROOT / "localaws" / "node" / "node_modules" / name / "package.json"
            return json.loads(package.read_text())["version"]
        except (OSError, ValueError, KeyError):
            return "?"

    from importlib.metadata import version

    return {
        **host(),
        "hostname": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu": cpu_model,
        "cores": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "node": _version(["node", "--version"]),
        "versions": {
            "kinesalite": node_package("kinesalite"), "dynalite": node_package("dynalite"),
            "moto": version("moto"), "boto3": version("boto3"), "botocore": version("botocore"),
        },
    }


def dir_size_mb(path: Path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return round(total / 2**20, 1)


def run(settings: Settings, work: Path) -> dict[str, Any]:
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "benchmark": NAME,
        "quick": settings.quick,
        "started_at": started.isoformat(timespec="seconds"),
        "command": settings.command,
        "settings": asdict(settings),
        "machine": machine_info(),
        "kinesis": {OURS: {}, MOTO: {}},
        "dynamodb": {OURS: {}, MOTO: {}},
        "durations_s": {},
    }
    monitor = ResourceMonitor()
    try:
        if OURS in settings.backends:
            phase_t0 = time.perf_counter()
            stack = LocalStack(data_dir=work / "endpoint-data", port=free_port(), log_path=work / "endpoint.log",
                               extra_args=["--no-deploy"])
            log(f"starting the local endpoint on {stack.endpoint_url} (data in {stack.data_dir})")
            stack.start()
            try:
                monitor.watch(endpoint_pids(stack))
                if "kinesis" in settings.parts:
                    k0 = time.perf_counter()
                    results["kinesis"][OURS] = kinesis_suite(OURS, stack.endpoint_url, settings, monitor)
                    results["durations_s"]["kinesis_endpoint"] = round(time.perf_counter() - k0, 1)
                if "dynamodb" in settings.parts:
                    d0 = time.perf_counter()
                    results["dynamodb"][OURS] = dynamodb_suite(OURS, stack.endpoint_url, settings, monitor)
                    results["durations_s"]["dynamodb_endpoint"] = round(time.perf_counter() - d0, 1)
            finally:
                stack.stop()
            results["endpoint_data_dir_mb"] = {
                "kinesis": dir_size_mb(stack.data_dir / "kinesis"),
                "dynamodb": dir_size_mb(stack.data_dir / "dynamodb"),
            }
            results["durations_s"]["endpoint_total"] = round(time.perf_counter() - phase_t0, 1)
        if MOTO in settings.backends:
            for part in settings.parts:
                p0 = time.perf_counter()
                moto = MotoServer(work / f"moto-{part}.log")
                log(f"starting moto_server on {moto.endpoint_url} for {part}")
                moto.start()
                try:
                    monitor.watch(moto.pids())
                    suite = kinesis_suite if part == "kinesis" else dynamodb_suite
                    results[part][MOTO] = suite(MOTO, moto.endpoint_url, settings, monitor)
                finally:
                    moto.stop()
                results["durations_s"][f"{part}_moto"] = round(time.perf_counter() - p0, 1)
    finally:
        monitor.close()
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["durations_s"]["total"] = round(time.perf_counter() - t0, 1)
    return results


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def _n(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _k(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1000 and count % 1000 == 0:
        return f"{count // 1000}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return str(count)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _last_rate(curve: list[list[float]] | list[tuple[int, float]], step: int) -> str:
    """Records per second over the last ``step`` records (or more) of the curve."""
    if len(curve) < 2:
        return "—"
    c1, t1 = curve[-1]
    c0, t0 = next(((c, t) for c, t in reversed(curve[:-1]) if c <= c1 - step and t < t1), curve[0])
    if t1 <= t0:
        return "—"
    return f"{_n((c1 - c0) / (t1 - t0))} rec/s at {_k(int(c1))}"


def _first_rate(curve: list[list[float]] | list[tuple[int, float]], step: int) -> str:
    """Records per second over the first ``step`` records (or more) of the curve."""
    c1, t1 = next(((c, t) for c, t in curve if c >= step and t > 0), curve[-1])
    return f"{_n(c1 / t1)} rec/s" if t1 > 0 else "—"


def _other_load(resources: dict[str, Any]) -> float:
    ours = sum(p["cpu_pct"] or 0 for p in resources["processes"].values())
    return max(0.0, resources["machine_busy_pct"] - ours)


def _rate_over(curve: list[list[float]] | list[tuple[int, float]], end: int, step: int) -> float | None:
    """Records per second over (end - step, end] of the curve, if the curve has both points."""
    points = {int(c): t for c, t in curve}
    start = max((c for c in points if c <= end - step), default=None)
    if start is None or end not in points or points[end] <= points[start]:
        return None
    return (end - start) / (points[end] - points[start])


def _headline(results: dict[str, Any]) -> list[str]:
    """One line per comparison, with the ratio measured in this run."""
    lines: list[str] = []
    step = results["settings"]["kinesis_checkpoint"] // 10
    kin = results["kinesis"]
    for key in sorted(set(kin.get(OURS, {})) & set(kin.get(MOTO, {}))):
        ours, moto = kin[OURS][key], kin[MOTO][key]
        if "put" not in ours or "put" not in moto:
            continue
        writers = key.replace("w", " writer") + ("s" if key != "1w" else "")
        moto_end = int(moto["put"]["curve"][-1][0])
        moto_end_step = next((int(c) for c, _ in reversed(moto["put"]["curve"]) if int(c) % step == 0), moto_end)
        ours_there = _rate_over(ours["put"]["curve"], moto_end_step, step)
        moto_there = _rate_over(moto["put"]["curve"], moto_end_step, step)
        segments = [row["rate"] for row in ours["put"]["per_checkpoint"]]
        line = (f"Kinesis PutRecords, {writers}: the endpoint put {ours['put']['acknowledged']:,} records at "
                f"{_n(ours['put']['rate'])} rec/s (per-{_k(step * 10)} stretches {_n(min(segments))}–"
                f"{_n(max(segments))} rec/s); moto reached {moto['put']['acknowledged']:,} in "
                f"{_duration(moto['put']['seconds'])} ({_n(moto['put']['rate'])} rec/s on average")
        if ours_there and moto_there:
            ratio = ours_there / moto_there
            line += (f"; at {_k(moto_end_step)} records in the shard {_n(moto_there)} rec/s against the endpoint's "
                     f"{_n(ours_there)}: " + (f"{ratio:,.0f}× slower" if ratio >= 1 else f"{1 / ratio:,.1f}× faster"))
        line += ")."
        if "get" in ours and "get" in moto:
            line += (f" Lost (acknowledged, never read back): endpoint {ours['get']['lost']:,} of "
                     f"{ours['get']['acknowledged']:,}, moto {moto['get']['lost']:,} of {moto['get']['acknowledged']:,}"
                     f" ({100 * moto['get']['lost'] / max(moto['get']['acknowledged'], 1):.1f} %).")
            line += (f" GetRecords: endpoint {_n(ours['get']['rate'])} rec/s, moto {_n(moto['get']['rate'])} rec/s.")
        lines.append(line)
    ddb = results["dynamodb"]
    ours_q = {q["items_in_table"]: q for q in ddb.get(OURS, {}).get("queries", [])}
    moto_q = {q["items_in_table"]: q for q in ddb.get(MOTO, {}).get("queries", [])}
    if ours_q:
        biggest = max(ours_q)
        q = ours_q[biggest]
        line = (f"DynamoDB Query ({QUERY_MINUTES} items) on the endpoint at {biggest:,} items: "
                f"p50 {q['p50_ms']:.1f} ms, p99 {q['p99_ms']:.1f} ms ({q['queries']} queries); "
                f"load {_n(ddb[OURS].get('load_rate'))} items/s.")
        common = sorted(set(ours_q) & set(moto_q))
        if common:
            size = common[-1]
            ratio = moto_q[size]["p50_ms"] / ours_q[size]["p50_ms"]
            moto_ddb = ddb[MOTO]
            line += (f" moto at {size:,} items: p50 {moto_q[size]['p50_ms']:,.0f} ms against "
                     f"{ours_q[size]['p50_ms']:.1f} ms, {ratio:,.{0 if ratio >= 10 else 1}f}× slower; moto loaded "
                     f"{moto_ddb.get('items_loaded', 0):,} items in {_duration(moto_ddb.get('load_seconds'))} "
                     f"({_n(moto_ddb.get('load_rate'))} items/s) and answered in p50 "
                     f"{moto_q[max(moto_q)]['p50_ms']:,.0f} ms at {max(moto_q):,}.")
        lines.append(line)
    phases = _all_phase_resources(results)
    wall = sum(r["wall_s"] for r in phases)
    if wall > 0:
        other = sum(_other_load(r) * r["wall_s"] for r in phases) / wall
        lines.append(f"Other sessions on this shared 2-core machine used {other:.0f} % CPU on average (100 % = one "
                     "core) while the phases ran: absolute rates are lower than on an idle machine, for both "
                     "backends alike; compare them side by side.")
    return lines


def _all_phase_resources(results: dict[str, Any]) -> list[dict[str, Any]]:
    phases: list[dict[str, Any]] = []
    for backend in (OURS, MOTO):
        for run_ in results["kinesis"].get(backend, {}).values():
            phases += [run_[op]["resources"] for op in ("put", "get") if op in run_]
        ddb = results["dynamodb"].get(backend, {})
        phases += [x["resources"] for x in ddb.get("loads", []) + ddb.get("queries", [])]
    return phases


def render_markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    m = results["machine"]
    out: list[str] = []
    add = out.append
    add(f"# Local endpoint vs moto: Kinesis and DynamoDB{' (quick smoke run)' if results['quick'] else ''}")
    add("")
    add(f"Run `{results['command']}` on {results['started_at']} (finished {results.get('finished_at', '?')}, "
        f"{_duration(results['durations_s'].get('total'))} in all), "
        f"commit {commit_of({'commit': m.get('git_commit'), **m})}.")  # git_commit: results before host()
    add(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; load average at start "
        f"{', '.join(str(x) for x in m['load_average_at_start'])} (a shared machine: single runs, orders of "
        "magnitude). The client (boto3, threads) runs on the same cores as the servers.")
    v = m["versions"]
    add(f"Versions: Python {m['python']}, Node {m['node']}, kinesalite {v['kinesalite']}, dynalite "
        f"{v['dynalite']}, moto {v['moto']}, boto3 {v['boto3']}.")
    add("")
    add("*endpoint* = `wildrydes local up --no-deploy` (gateway → kinesalite / dynalite on LevelDB); "
        "*moto* = `moto_server` (in memory), each started fresh by the benchmark.")
    add("")

    kin = results["kinesis"]
    headline = _headline(results)
    if headline:
        add("## Summary")
        add("")
        out.extend(f"- {line}" for line in headline)
        add("")
    columns: list[tuple[str, dict[str, Any]]] = []
    for backend in (OURS, MOTO):
        for key, run_ in kin.get(backend, {}).items():
            columns.append((f"{backend}, {key.replace('w', ' writer')}{'s' if key != '1w' else ''}", run_))
    if columns:
        checkpoint = s["kinesis_checkpoint"]
        mean_bytes = next((c[1]["put"]["mean_record_bytes"] for c in columns if "put" in c[1]), 0)
        add(f"## Kinesis PutRecords into one shard (batches of {KINESIS_BATCH}, {mean_bytes:.0f}-byte JSON records)")
        add("")
        add(f"Records per second acknowledged, per {_k(checkpoint)} records as the shard fills. The endpoint "
            f"goes to {_k(s['kinesis_records'])}; moto until {_k(s['kinesis_records'])} or its time budget "
            f"({_duration(s['moto_kinesis_budget_s'])} with 1 writer, "
            f"{_duration(s['moto_kinesis_concurrent_budget_s'])} with more) runs out.")
        add("")
        add("| records in the shard | " + " | ".join(name for name, _ in columns) + " |")
        add("|---|" + "---:|" * len(columns))
        starts = sorted({row["from"] for _, run_ in columns for row in run_.get("put", {}).get("per_checkpoint", [])})
        for lo in starts:
            cells = []
            for _, run_ in columns:
                row = next((r for r in run_.get("put", {}).get("per_checkpoint", []) if r["from"] == lo), None)
                if row is None or row["to"] - row["from"] < checkpoint // 10:
                    cells.append("")
                elif row["to"] - row["from"] == checkpoint:
                    cells.append(_n(row["rate"]))
                else:
                    cells.append(f"{_n(row['rate'])} (to {_k(row['to'])})")
            add(f"| {_k(lo)}–{_k(lo + checkpoint)} | " + " | ".join(cells) + " |")

        def cell(run_: dict[str, Any], fn: Callable[[dict[str, Any]], str]) -> str:
            if "error" in run_ and "put" not in run_:
                return f"error: {run_['error'][:60]}"
            try:
                return fn(run_)
            except (KeyError, TypeError):
                return "—"

        rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
            ("**records acknowledged**", lambda r: f"**{r['put']['acknowledged']:,}**"),
            ("time to put them", lambda r: _duration(r["put"]["seconds"])),
            (f"rate over the first {_k(checkpoint // 10)} records",
             lambda r: _first_rate(r["put"]["curve"], checkpoint // 10)),
            (f"rate over the last {_k(checkpoint // 10)} records",
             lambda r: _last_rate(r["put"]["curve"], checkpoint // 10)),
            ("**mean put rate**", lambda r: f"**{_n(r['put']['rate'])} rec/s**"),
            ("read back (GetRecords, Limit 10000)",
             lambda r: f"{r['get']['records_read']:,} in {r['get']['seconds']:.1f} s"),
            ("**GetRecords rate**", lambda r: f"**{_n(r['get']['rate'])} rec/s** ({r['get']['mb_per_s']} MB/s)"),
            ("**acknowledged but not read back (lost)**", lambda r: f"**{r['get']['lost']:,}**"),
            ("reads not matching an acknowledgement", lambda r: f"{r['get']['unexpected_or_duplicate_reads']:,}"),
            ("acknowledged twice with one sequence number",
             lambda r: f"{r['put']['duplicate_acknowledged_sequence_numbers']:,}"),
            ("server CPU during puts (% of one core)", lambda r: _n(r["put"]["resources"]["backend_cpu_pct"])),
            ("client CPU during puts", lambda r: _n(r["put"]["resources"]["processes"]["bench client"]["cpu_pct"])),
            ("other load on the machine during puts", lambda r: _n(_other_load(r["put"]["resources"]))),
            ("server RSS peak during puts", lambda r: f"{_n(r['put']['resources']['backend_rss_peak_mb'])} MB"),
        ]
        for title, fn in rows:
            add(f"| {title} | " + " | ".join(cell(r, fn) for _, r in columns) + " |")
        errors = [(name, e) for name, r in columns for e in r.get("put", {}).get("errors", [])]
        for name, error in errors:
            add(f"\n*{name}*: {error}")
        add("")

    ddb = results["dynamodb"]
    if any(ddb.get(b) for b in (OURS, MOTO)):
        ours, moto = ddb.get(OURS, {}), ddb.get(MOTO, {})
        add(f"## DynamoDB `{TABLE}` (Name HASH S, StatusTime RANGE S): BatchWriteItem load and Query")
        add("")
        add(f"{s['unicorns']:,} unicorns × {s['minutes']:,} minutes = {s['unicorns'] * s['minutes']:,} items "
            f"written minute by minute, {DDB_BATCH} per BatchWriteItem, {s['ddb_writers']} parallel writers. "
            f"Query: `Name = :n AND StatusTime BETWEEN :a AND :b` over {QUERY_MINUTES} minutes "
            f"({QUERY_MINUTES} items) of a random unicorn, latency seen by the client, after loading up to each "
            f"checkpoint. moto loads for {_duration(s['moto_ddb_budget_s'])} at most and answers up to "
            f"{s['moto_queries_max']} queries ({_duration(s['moto_query_budget_s'])}) per checkpoint.")
        add("")
        add("| | endpoint | moto |")
        add("|---|---:|---:|")

        def load_cell(r: dict[str, Any]) -> str:
            if "error" in r and "items_loaded" not in r:
                return f"error: {r['error'][:60]}"
            if "items_loaded" not in r:
                return "—"
            return f"{r['items_loaded']:,} in {_duration(r['load_seconds'])} ({_n(r['load_rate'])} items/s)"

        add(f"| items loaded | {load_cell(ours)} | {load_cell(moto)} |")
        add(f"| billing mode | {ours.get('billing_mode', '—')} | {moto.get('billing_mode', '—')} |")

        def peak(r: dict[str, Any], key: str) -> str:
            values = [x["resources"][key] for x in r.get("loads", [])]
            return _n(max(values)) if values else "—"

        add(f"| server RSS peak (MB) | {peak(ours, 'backend_rss_peak_mb')} | {peak(moto, 'backend_rss_peak_mb')} |")
        add("")
        add("| items in the table | endpoint load (items/s) | endpoint query p50 | p99 | queries | "
            "moto load (items/s) | moto query p50 | p99 | queries | moto p50 / endpoint p50 |")
        add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        sizes = sorted({q["items_in_table"] for r in (ours, moto) for q in r.get("queries", [])})
        for size in sizes:
            cells = []
            p50s = []
            for r in (ours, moto):
                q = next((x for x in r.get("queries", []) if x["items_in_table"] == size), None)
                load = next((x for x in r.get("loads", []) if x["to"] == size), None)
                cells.append(_n(load["rate"]) if load else "")
                if q:
                    cells += [f"{q['p50_ms']:,.1f} ms", f"{q['p99_ms']:,.1f} ms", str(q["queries"])]
                    p50s.append(q["p50_ms"])
                else:
                    cells += ["", "", ""]
                    p50s.append(None)
            ratio = f"{p50s[1] / p50s[0]:,.0f}×" if p50s[0] and p50s[1] else ""
            add(f"| {size:,} | " + " | ".join(cells) + f" | {ratio} |")
        wrong = [(b, q["items_in_table"], q["queries_with_wrong_count"]) for b, r in ((OURS, ours), (MOTO, moto))
                 for q in r.get("queries", []) if q["queries_with_wrong_count"]]
        for backend, size, count in wrong:
            add(f"\n*{backend}* at {size:,} items: {count} queries did not return {QUERY_MINUTES} items.")
        add("")

    add("## Resources per phase")
    add("")
    add("CPU = a process's CPU time over the phase's wall time (100 % = one core of the 2); RSS peak sampled "
        "every 0.5 s. *Other load* = CPU used on the machine by processes outside this benchmark (other "
        "sessions on the shared machine), which the benchmark competes with.")
    add("")
    add("| phase | wall | server CPU % | server RSS peak (MB) | per server process: CPU % / RSS peak MB | "
        "client CPU % | other load % |")
    add("|---|---:|---:|---:|---|---:|---:|")

    def resource_row(title: str, resources: dict[str, Any]) -> None:
        detail = ", ".join(
            f"{name} {_n(p['cpu_pct'])} / {_n(p['rss_peak_mb'])}" for name, p in resources["processes"].items()
            if name != "bench client"
        )
        client = resources["processes"].get("bench client", {}).get("cpu_pct")
        add(f"| {title} | {_duration(resources['wall_s'])} | {_n(resources['backend_cpu_pct'])} | "
            f"{_n(resources['backend_rss_peak_mb'])} | {detail} | {_n(client)} | {_n(_other_load(resources))} |")

    for backend in (OURS, MOTO):
        for key, run_ in kin.get(backend, {}).items():
            for op in ("put", "get"):
                if op in run_:
                    resource_row(f"{backend} Kinesis {op} {key}", run_[op]["resources"])
        r = ddb.get(backend, {})
        for load in r.get("loads", []):
            resource_row(f"{backend} DynamoDB load {_k(load['from'])}–{_k(load['to'])}", load["resources"])
        for q in r.get("queries", []):
            resource_row(f"{backend} DynamoDB {q['queries']} queries at {_k(q['items_in_table'])}", q["resources"])
    add("")
    if results.get("endpoint_data_dir_mb"):
        d = results["endpoint_data_dir_mb"]
        add(f"Endpoint data directory afterwards: kinesalite {d['kinesis']:,} MB, dynalite {d['dynamodb']:,} MB "
            "(LevelDB).")
        add("")
    durations = ", ".join(f"{k} {_duration(v)}" for k, v in results["durations_s"].items())
    add(f"Durations: {durations}.")
    add("")
    add("Full figures (10k-step curves, per-process resources): the JSON file next to this one.")
    return "\n".join(out) + "\n"


def write_results(results: dict[str, Any], out_dir: Path, stem: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    md_path.write_text(render_markdown(results))
    return json_path, md_path


def _int_list(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def parse_args(argv: list[str]) -> tuple[Settings, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m bench endpoint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 60 s)")
    parser.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--render", type=Path, metavar="JSON", help="only re-render the markdown of a JSON result")
    parser.add_argument("--only", choices=("kinesis", "dynamodb"), action="append", help="run only this part")
    parser.add_argument("--backend", choices=(OURS, MOTO), action="append", help="run only this backend")
    parser.add_argument("--kinesis-records", type=int)
    parser.add_argument("--writers", type=_int_list, help="concurrent Kinesis writers per run, e.g. 1,4")
    parser.add_argument("--moto-kinesis-budget", type=float, help="seconds for moto's 1-writer run")
    parser.add_argument("--moto-kinesis-concurrent-budget", type=float, help="seconds for each moto multi-writer run")
    parser.add_argument("--unicorns", type=int)
    parser.add_argument("--minutes", type=int)
    parser.add_argument("--ddb-writers", type=int)
    parser.add_argument("--queries", type=int, help="queries at the final size (the endpoint)")
    parser.add_argument("--moto-dynamodb-budget", type=float, help="seconds of loading for moto")
    parser.add_argument("--keep-data", action="store_true", help="keep the data directory under /tmp")
    add_result_options(parser)
    args = parser.parse_args(argv)
    if not args.render:
        args.stem = result_stem("endpoint-quick" if args.quick else "endpoint", args)
    settings = Settings.quick_settings() if args.quick else Settings()
    overrides = {
        "kinesis_records": args.kinesis_records, "kinesis_writers": args.writers,
        "moto_kinesis_budget_s": args.moto_kinesis_budget,
        "moto_kinesis_concurrent_budget_s": args.moto_kinesis_concurrent_budget,
        "unicorns": args.unicorns, "minutes": args.minutes, "ddb_writers": args.ddb_writers,
        "queries_final": args.queries, "moto_ddb_budget_s": args.moto_dynamodb_budget,
        "parts": tuple(args.only) if args.only else None, "backends": tuple(args.backend) if args.backend else None,
    }
    for key, value in overrides.items():
        if value is not None:
            setattr(settings, key, value)
    settings.keep_data = args.keep_data
    settings.command = shlex.join(["python", "-m", "bench", "endpoint", *argv])
    return settings, args


def main(argv: list[str] | None = None) -> int:
    settings, args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.render:
        results = json.loads(args.render.read_text())
        md_path = args.render.with_suffix(".md")
        md_path.write_text(render_markdown(results))
        print(md_path)
        return 0
    work = Path(tempfile.mkdtemp(prefix="wildrydes-bench-", dir="/tmp"))
    log(f"work directory {work}; settings {asdict(settings)}")
    try:
        results = run(settings, work)
    finally:
        if settings.keep_data:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    json_path, md_path = write_results(results, args.out_dir, args.stem)
    print(render_markdown(results))
    log(f"wrote {json_path} and {md_path}")
    failed = [f"kinesis {b} {k}" for b, runs in results["kinesis"].items() for k, r in runs.items() if "error" in r]
    failed += [f"dynamodb {b}" for b, r in results["dynamodb"].items() if "error" in r]
    if failed:
        log(f"phases with errors: {', '.join(failed)}")
        return 1
    return 0
