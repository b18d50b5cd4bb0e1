"""What `wildrydes local status` reports beyond the backends' health: per event source mapping and per
delivery stream, how far behind the stream's tip processing is and what it processed; and the records
set aside for a human (quarantine and dead-letter queues, Firehose's error prefix).

The Lambda runtime and the Firehose write ``<data dir>/lambda/status.json`` and
``<data dir>/firehose/status.json`` every few seconds; queue depths come from SQS through the endpoint.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

STALE_AFTER_S = 15.0  # a status file older than this comes from a process that is not running
QUEUE_OUTPUTS = {
    "quarantine (malformed records)": "QuarantineQueueUrl",
    "aggregator failures": "AggregatorDeadLetterQueueUrl",
    "summary writer failures": "SummaryWriterDeadLetterQueueUrl",
}


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _fresh(payload: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    if payload is None:
        return None
    return {**payload, "stale": now - float(payload.get("updated_at", 0)) > STALE_AFTER_S}


def queue_depths(outputs: dict[str, Any], sqs: Any) -> dict[str, Any]:
    """The depth of each queue of records set aside, by the stack outputs that name the queues."""
    depths: dict[str, Any] = {}
    for label, output in QUEUE_OUTPUTS.items():
        url = outputs.get(output)
        if not url:
            continue
        try:
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            depths[label] = {"queue": url.rsplit("/", 1)[-1],
                             "messages": int(attributes.get("ApproximateNumberOfMessages", 0))
                             + int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))}
        except Exception as error:  # noqa: BLE001 - shown to the operator, never fatal for a status command
            depths[label] = {"queue": url.rsplit("/", 1)[-1], "error": str(error)[:200]}
    return depths


def iam_report(endpoint: str | None) -> dict[str, Any] | None:
    """The gateway's IAM mode and what it denied (``/_wildrydes/iam``), None when it cannot be asked."""
    if not endpoint:
        return None
    try:
        with urllib.request.urlopen(f"{endpoint}/_wildrydes/iam", timeout=2) as response:
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def collect(data_dir: Path, outputs: dict[str, Any], sqs: Any, now: float | None = None,
            endpoint: str | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    return {
        "lambda": _fresh(_read(data_dir / "lambda" / "status.json"), now),
        "firehose": _fresh(_read(data_dir / "firehose" / "status.json"), now),
        "queues": queue_depths(outputs, sqs),
        "iam": iam_report(endpoint),
    }


def render(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    lam = report.get("lambda")
    lines.append("event source mappings" + (" (status is stale: is the Lambda runtime running?)"
                                            if lam and lam["stale"] else ""))
    if not lam or not lam.get("mappings"):
        lines.append("  none running")
    for m in (lam or {}).get("mappings", {}).values():
        lines.append(f"  {m['function']:<28} <- {m['stream']:<18} lag {m['lag_ms']:>8,} ms   "
                     f"processed {m['records_processed']:>10,}   invocations {m['invocations']:>7,}   "
                     f"errors {m['errors']:>4,}   to failure destination {m['records_to_failure_destination']:,}"
                     + (f"   problem: {m['problem']}" if m.get("problem") else ""))
    fh = report.get("firehose")
    lines.append("delivery streams" + (" (status is stale: is the Firehose running?)" if fh and fh["stale"] else ""))
    if not fh or not fh.get("streams"):
        lines.append("  none running")
    for name, d in (fh or {}).get("streams", {}).items():
        lag = max((s.get("lag_ms", 0) for s in d.get("shards", {}).values() if not s.get("finished")), default=0)
        lines.append(f"  {name:<28} <- {d.get('source', '?'):<18} lag {lag:>8,} ms   "
                     f"delivered {d.get('records_delivered', 0):>10,}   buffered {d.get('records_buffered', 0):>7,}   "
                     f"to error prefix {d.get('records_failed', 0):,}"
                     + (f"   problem: {d['problem']}" if d.get("problem") else ""))
    lines.append("set aside for a human")
    for label, queue in report.get("queues", {}).items():
        shown = f"{queue['messages']:,} messages" if "messages" in queue else f"unknown ({queue['error']})"
        lines.append(f"  {label:<32} {queue['queue']:<30} {shown}")
    iam = report.get("iam")
    if iam:
        lines.append(f"IAM ({iam['mode']}): {iam['checked']:,} requests checked, {iam['denied']:,} denied"
                     + ("" if iam["mode"] == "enforce" else " (not refused: audit)" if iam["mode"] == "audit" else ""))
        for denial in iam.get("recent_denials", [])[-5:]:
            lines.append(f"  {time.strftime('%H:%M:%S', time.localtime(denial['at']))} {denial['principal']} "
                         f"{denial['action']} on {denial['resource']}")
    return lines


def compact(report: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """The report in short lines for the console: mappings, delivery streams, what was set aside."""
    mappings = [f"{m['function']}: lag {m['lag_ms'] / 1000:,.1f} s, {m['records_processed']:,} processed"
                + (f", {m['errors']:,} errors" if m["errors"] else "")
                for m in ((report.get("lambda") or {}).get("mappings") or {}).values()]
    deliveries = []
    for name, d in ((report.get("firehose") or {}).get("streams") or {}).items():
        lag = max((s.get("lag_ms", 0) for s in d.get("shards", {}).values() if not s.get("finished")), default=0)
        deliveries.append(f"{name}: lag {lag / 1000:,.1f} s, {d.get('records_delivered', 0):,} delivered"
                          + (f", {d['records_failed']:,} to the error prefix" if d.get("records_failed") else ""))
    set_aside = [f"{label.split(' (')[0]} {queue['messages']:,}" for label, queue in report.get("queues", {}).items()
                 if queue.get("messages")]
    mappings += [f"{m['function']}: {m['problem']}" for m in ((report.get("lambda") or {}).get("mappings") or {})
                 .values() if m.get("problem")]
    iam = report.get("iam") or {}
    if iam.get("denied"):
        last = iam["recent_denials"][-1] if iam.get("recent_denials") else None
        who = last["principal"].split(":", 5)[-1] if last else ""  # assumed-role/<role>/<session>, user/<name>
        set_aside.append(f"IAM denials {iam['denied']:,}" + (f" (last: {who} {last['action']})" if last else ""))
    return mappings, deliveries, set_aside
