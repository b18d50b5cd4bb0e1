"""``wildrydes produce``: run the fleet simulator into a Kinesis stream.

The top-level CLI registers the command with ``add_produce_command(subparsers)`` and then calls
``args.func(args)``, which returns the exit status (0 ok, 1 delivery failed, 130 interrupted after
flushing what was produced). ``python -m streaming.producer …`` runs the same command on its own.
"""

from __future__ import annotations

import argparse
import math
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from streaming.lambdas.timefmt import to_epoch_ms

from .sender import KinesisSender, SenderError
from .simulation import Fleet


def add_produce_command(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "produce",
        help="simulate the unicorn fleet and send its sensor records to Kinesis",
        description="Simulate N unicorns, each reporting once per tick, and PutRecords them to a stream "
        "(partition key = unicorn name). Progress on a terminal; a summary line at the end.",
    )
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unicorns", type=_positive_int, default=20, help="fleet size (default 20)")
    parser.add_argument(
        "--rate", type=_positive_float, default=1.0,
        help="tick rate multiplier: 1 = one record per unicorn per second (default 1)",
    )  # fmt: skip
    stop = parser.add_mutually_exclusive_group()
    stop.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    stop.add_argument("--count", type=_positive_int, help="stop after this many records")
    parser.add_argument("--seed", type=int, help="random seed (same seed => same records); default random")
    parser.add_argument("--stream", default="wildrydes", help="stream name or ARN (default wildrydes)")
    parser.add_argument(
        "--start-time", type=_utc_time, metavar="TIME",
        help="simulated clock for StatusTime, e.g. '2026-11-25 18:00:00' (UTC), advancing 1/rate s per "
        "tick; default: the wall clock",
    )  # fmt: skip
    parser.add_argument("--in-flight", type=_positive_int, default=2, help="PutRecords calls in flight (default 2)")
    parser.add_argument("--acks", type=Path, metavar="FILE",
                        help="write 'shard id,sequence number' of every acknowledged record to FILE (CSV), to "
                        "check delivery by identity")
    parser.add_argument("--quiet", action="store_true", help="no progress line even on a terminal")
    parser.add_argument("--report-every", type=_positive_float, metavar="SECONDS",
                        help="print a progress line every SECONDS even when not on a terminal (for logs)")
    parser.set_defaults(func=run_produce)


def run_produce(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    fleet = Fleet(args.unicorns, seed)
    progress = Progress(err, enabled=(err.isatty() or bool(args.report_every)) and not args.quiet,
                        line_every=args.report_every)
    start_ms = None if args.start_time is None else to_epoch_ms(args.start_time)
    status = 0
    sender = KinesisSender(args.stream, lanes=args.in_flight, collect_acks=args.acks is not None)
    acks = AckFile(sender, args.acks) if args.acks is not None else None
    try:
        produce(fleet, sender, args.rate, args.duration, args.count, start_ms, progress)
        sender.flush()
    except KeyboardInterrupt:
        status = 130
        try:
            sender.flush()
        except SenderError as exc:
            err.write(f"\nproduce: {exc}\n")
            status = 1
    except SenderError as exc:
        progress.clear()
        err.write(f"produce: {exc}\n")
        status = 1
    finally:
        progress.clear()
        try:
            sender.close()
        except SenderError:
            status = status or 1
        if acks is not None:
            acks.close()
    elapsed = max(time.monotonic() - progress.started, 1e-9)
    stats = sender.stats
    out.write(
        f"produce: {sender.acknowledged} records acknowledged ({args.unicorns} unicorns, seed {seed}) to "
        f"{args.stream} in {elapsed:.1f} s = {sender.acknowledged / elapsed:,.0f} rec/s; "
        f"{stats.calls} PutRecords calls, {stats.resent} re-sent, {stats.throttled} throttled"
        f"{'' if status == 0 else f'; {sender.pending} not acknowledged'}\n"
    )
    out.flush()
    return status


def produce(
    fleet: Fleet,
    sender: KinesisSender,
    rate: float,
    duration: float | None,
    count: int | None,
    start_ms: int | None,
    progress: Progress,
) -> None:
    """Tick the fleet ``rate`` times a second (or as fast as possible when behind) until done."""
    interval = 1.0 / rate
    period_ms = max(1, round(1000 * interval))
    size = len(fleet.unicorns)
    t0 = progress.started = time.monotonic()
    produced = 0
    tick = 0
    while True:
        if count is not None and produced >= count:
            return
        now = time.monotonic()
        if duration is not None and now - t0 >= duration:
            return
        ahead = t0 + tick * interval - now
        if ahead > 0:
            sender.submit_pending()  # don't hold a partial batch while idle
            progress.update(sender, now)
            time.sleep(min(ahead, 0.2))
            continue
        clock_ms = start_ms + math.floor(tick * 1000 * interval) if start_ms is not None else time.time_ns() // 10**6
        limit = None if count is None or count - produced >= size else count - produced
        for reading in fleet.tick(clock_ms, period_ms, limit):
            sender.add(reading.encode(), reading.name)
        produced += size if limit is None else limit
        tick += 1
        if tick % 16 == 0:
            progress.update(sender, time.monotonic())


class AckFile(threading.Thread):
    """Appends the sender's acknowledgements to a CSV file once a second, so they never pile up in memory."""

    def __init__(self, sender: KinesisSender, path: Path) -> None:
        super().__init__(daemon=True, name="acks")
        self.sender = sender
        self.file = path.open("w", encoding="ascii")
        self.file.write("shard_id,sequence_number\n")
        self.stopped = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self._drain()

    def _drain(self) -> None:
        self.file.writelines(f"{ack.shard_id},{ack.sequence_number}\n" for ack in self.sender.take_acks())

    def close(self) -> None:
        self.stopped.set()
        self.join()
        self._drain()
        self.file.close()


@dataclass
class Progress:
    stream: TextIO
    enabled: bool
    started: float = field(default_factory=time.monotonic)
    _last_time: float = 0.0
    _last_acked: int = 0
    _shown: bool = False
    line_every: float | None = None  # when set: a plain line every so many seconds (logs, not a terminal)

    def update(self, sender: KinesisSender, now: float) -> None:
        if not self.enabled or now - self._last_time < (self.line_every or 0.5):
            return
        if not self._last_time:
            self._last_time, self._last_acked = self.started, 0
        acked = sender.acknowledged
        current = (acked - self._last_acked) / max(now - self._last_time, 1e-9)
        average = acked / max(now - self.started, 1e-9)
        self._last_time, self._last_acked = now, acked
        self.stream.write(
            ("" if self.line_every else "\r\x1b[K")
            + f"{acked:,} acked | {current:,.0f} rec/s now | {average:,.0f} rec/s avg | "
            f"{sender.pending:,} pending | {sender.stats.resent:,} re-sent | {sender.stats.throttled:,} throttled"
            f" | {now - self.started:,.1f} s" + ("\n" if self.line_every else "")
        )
        self.stream.flush()
        self._shown = not self.line_every

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _utc_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected 'YYYY-MM-DD HH:MM:SS[.fff]' (UTC) or ISO-8601") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wildrydes-produce")
    configure_parser(parser)
    args = parser.parse_args(argv)
    return args.func(args)
