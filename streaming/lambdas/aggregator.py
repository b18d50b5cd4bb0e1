"""Per-minute aggregation of the raw stream: an AWS Lambda tumbling-window handler on ``wildrydes``.

The workshop's Kinesis Data Analytics SQL grouped by ``FLOOR(ROWTIME TO MINUTE), Name``; a Lambda
tumbling window is cut by the same arrival time, so the window in the event *is* that minute. Records
of one window may arrive over several invocations; the running aggregate travels in ``state``:

    {"u": {"<Name>": [[distance partials...], minMagic, maxMagic, minHealth, maxHealth, count]},
     "_quarantined": <malformed records seen in this window>,
     "p": "<shard id>/<sequence number of the first record of this state>"}

On the invocation with ``isFinalInvokeForWindow`` (records or not) one summary per unicorn is written to
the ``SUMMARY_STREAM`` stream with PutRecords (partition key = Name); failed entries are re-sent with
bounded backoff and, if they still fail, the invocation raises so the runtime retries the final invoke
(AWS does, and with the template's unbounded retries blocks the shard until it succeeds, so a closed
window is never lost). Each summary names its part of the unicorn-minute (``Partial``: the shard and the
first record of the state), so the writer merges the parts of one minute exactly (the parent and the child
of a reshard, or a window Lambda ended early), and a retried final invoke re-emits the same part, which
replaces itself.

Distance is summed exactly: the state keeps Shewchuk's non-overlapping partials (as ``math.fsum``
does), so the summary's Distance is the correctly rounded sum of the window's distances whatever the
batch boundaries or the order, and equals ``math.fsum`` over the same values computed independently.

Malformed records (bad base64, not JSON, contract violations) never fail the batch: each is counted in
``state["_quarantined"]`` and sent with its reason to the quarantine queue (``QUARANTINE_QUEUE_URL``).

The live map does not read the source stream (its viewers would share the pipeline's 5 GetRecords/s per shard):
each invocation relays the latest reading of each unicorn in its batch, as it arrived, to ``MAP_STREAM``. The
relay is best effort by design: a reading it could not relay (after a few quick retries) is replaced by the
next one a second later, so a failure is logged as a warning and never fails the batch.

State size: Lambda ends a window early when its state passes 1 MB per shard (~10,000 unicorns at ~100
bytes each); the final invoke of that part emits its summaries, the rest of the window starts from empty
state under a new ``Partial`` id, and the writer adds the parts up. More shards keep windows whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any

from . import clients, quarantine
from .contract import ContractError, parse_raw
from .kinesis_put import PutStats, batches, put_records
from .retry import Backoff
from .timefmt import epoch_seconds_to_ms, format_datetime, parse_iso, to_epoch_ms

log = logging.getLogger(__name__)

SUMMARY_STREAM_ENV = "SUMMARY_STREAM"
MAP_STREAM_ENV = "MAP_STREAM"
RELAY_BACKOFF = Backoff(attempts=3, base=0.02, cap=0.2)
EMIT_BACKOFF = Backoff(attempts=8, base=0.05, cap=2.0)
SAFETY_MARGIN_S = 3.0

State = dict[str, Any]


class MalformedStateError(RuntimeError):
    """The state passed in was not written by this handler."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process(event, context)


def process(
    event: dict[str, Any],
    context: Any = None,
    *,
    kinesis: Any = None,
    sqs: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    window = event.get("window") or {}
    try:
        start = parse_iso(window["start"])
        end = parse_iso(window["end"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a tumbling-window event: window {window!r} ({exc})") from None
    state = load_state(event.get("state"))
    shard_id = event.get("shardId")
    start_ms, end_ms = to_epoch_ms(start), to_epoch_ms(end)
    records = event.get("Records") or []
    if records and "p" not in state:
        first = (records[0].get("kinesis") or {}).get("sequenceNumber")
        state["p"] = f"{shard_id}/{first}"

    bad: list[dict[str, Any]] = []
    latest: dict[str, bytes] = {}  # per unicorn, its latest reading of this batch (for the map)
    outside = 0
    for record in records:
        kin = record.get("kinesis") or {}
        data_b64 = kin.get("data") or ""
        arrival = kin.get("approximateArrivalTimestamp")
        try:
            raw = base64.b64decode(data_b64, validate=True)
            parsed = parse_raw(raw)
        except (ContractError, binascii.Error, ValueError, TypeError) as exc:
            reason = exc.reason if isinstance(exc, ContractError) else f"data is not valid base64: {exc}"
            bad.append(
                quarantine.message(
                    reason,
                    data_b64 if isinstance(data_b64, str) else repr(data_b64),
                    source="aggregator",
                    shard_id=shard_id,
                    sequence_number=kin.get("sequenceNumber"),
                    partition_key=kin.get("partitionKey"),
                    arrival=arrival,
                    extra={"eventSourceARN": event.get("eventSourceARN"), "window": window},
                )
            )
            continue
        if isinstance(arrival, int | float) and not start_ms <= epoch_seconds_to_ms(arrival) < end_ms:
            outside += 1
        add_record(state, parsed)
        latest[parsed["Name"]] = raw
    state["_quarantined"] += len(bad)
    if outside:
        log.warning(
            "%d record(s) arrived outside window %s..%s; aggregated into it as given",
            outside,
            window.get("start"),
            window.get("end"),
        )

    quarantine.send(bad, sqs=sqs, sleep=sleep)
    relay(latest, kinesis=kinesis, sleep=sleep)

    if event.get("isFinalInvokeForWindow"):
        if event.get("isWindowTerminatedEarly"):
            log.info("window %s on %s ended early (state %d bytes): part %s of its minute", window, shard_id,
                     state_size(state), state.get("p"))
        emitted = emit(state, format_datetime(start), format_datetime(end), context, kinesis=kinesis, sleep=sleep)
        log.info(
            "window %s..%s shard %s: %d summaries, %d records, %d quarantined",
            window.get("start"),
            window.get("end"),
            shard_id,
            emitted,
            sum(entry[5] for entry in state["u"].values()),
            state["_quarantined"],
        )
    return {"state": state, "batchItemFailures": []}


# -------------------------------------------------------------------------------------------- state


def load_state(state: Any) -> State:
    if not state:
        return {"u": {}, "_quarantined": 0}
    if not isinstance(state, dict) or not isinstance(state.get("u"), dict):
        raise MalformedStateError(f"state was not written by this aggregator: {str(state)[:200]}")
    # A private copy: AWS hands over a fresh deserialised state, but an in-process runtime retrying a
    # failed invocation with the same event object must not see this attempt's partial updates.
    state = json.loads(json.dumps(state))
    state.setdefault("_quarantined", 0)
    return state


def add_record(state: State, record: dict[str, Any]) -> None:
    units = state["u"]
    magic, health = record["MagicPoints"], record["HealthPoints"]
    entry = units.get(record["Name"])
    if entry is None:
        units[record["Name"]] = [[record["Distance"]], magic, magic, health, health, 1]
        return
    add_exact(entry[0], record["Distance"])
    if magic < entry[1]:
        entry[1] = magic
    if magic > entry[2]:
        entry[2] = magic
    if health < entry[3]:
        entry[3] = health
    if health > entry[4]:
        entry[4] = health
    entry[5] += 1


def add_exact(partials: list[float], x: float) -> None:
    """Add ``x`` to non-overlapping partials whose exact sum is the running total (Shewchuk)."""
    i = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo:
            partials[i] = lo
            i += 1
        x = hi
    partials[i:] = [x]


def state_size(state: State) -> int:
    """Bytes of the state as JSON, measured the roomy way (ASCII escapes, default separators)."""
    return len(json.dumps(state))


def summaries(state: State, window_start: str, window_end: str) -> list[dict[str, Any]]:
    part = state.get("p") or "whole"
    out = []
    for name in sorted(state["u"]):
        partials, min_m, max_m, min_h, max_h, count = state["u"][name]
        out.append(
            {
                "Name": name,
                "StatusTime": window_start,
                "Distance": math.fsum(partials),
                "MinMagicPoints": min_m,
                "MaxMagicPoints": max_m,
                "MinHealthPoints": min_h,
                "MaxHealthPoints": max_h,
                "RecordCount": count,
                "WindowEnd": window_end,
                "Partial": part,
                "DistanceParts": list(partials),
            }
        )
    return out


# --------------------------------------------------------------------------------------------- emit


def emit(
    state: State,
    window_start: str,
    window_end: str,
    context: Any,
    *,
    kinesis: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    rows = summaries(state, window_start, window_end)
    if not rows:
        return 0
    stream = os.environ.get(SUMMARY_STREAM_ENV)
    if not stream:
        raise RuntimeError(f"{SUMMARY_STREAM_ENV} is not set: nowhere to emit {len(rows)} summaries")
    kinesis = kinesis if kinesis is not None else clients.get("kinesis")
    deadline = _deadline(context)
    entries = [
        (json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), row["Name"]) for row in rows
    ]
    stats = PutStats()
    for batch in batches(entries):
        put_records(kinesis, stream, batch, backoff=EMIT_BACKOFF, deadline=deadline, sleep=sleep, stats=stats)
    if stats.resent:
        log.warning("re-sent %d summary records after partial failures (%s)", stats.resent, dict(stats.errors))
    return len(rows)


def relay(latest: dict[str, bytes], *, kinesis: Any = None, sleep: Callable[[float], None] = time.sleep) -> None:
    """Each unicorn's latest reading to the map's stream, when there is one; never fails the batch."""
    stream = os.environ.get(MAP_STREAM_ENV)
    if not stream or not latest:
        return
    kinesis = kinesis if kinesis is not None else clients.get("kinesis")
    entries = [(data, name) for name, data in latest.items()]
    try:
        for batch in batches(entries):
            put_records(kinesis, stream, batch, backoff=RELAY_BACKOFF, sleep=sleep)
    except Exception as exc:  # noqa: BLE001 - the map's view of one second must never hold back aggregation
        log.warning("relayed not all %d readings to %s (%s): the map shows them with the next ones",
                    len(entries), stream, exc)


def _deadline(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + max(0.0, remaining() / 1000.0 - SAFETY_MARGIN_S)
