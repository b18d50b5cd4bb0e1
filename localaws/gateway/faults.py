"""Faults injected on purpose by the local endpoint: AWS errors and slow responses, per service and operation.

The gateway holds one ``FaultSet``, changed at run time through its admin API (``/_wildrydes/faults``, see
gateway.py) or ``wildrydes local faults ...``. A rule names a service (``kinesis``, ``dynamodb``, ``s3``, ...;
``*`` for all) and an operation (``PutRecords``, ``GetObject``, ...; ``*`` for all), and what happens to a
matching call:

- ``error``: a kind the SDKs know (ProvisionedThroughputExceededException, ThrottlingException,
  InternalFailure, ServiceUnavailable), rendered with the code and HTTP status that service answers with
  (aws_errors.fault_code: e.g. S3's throttling is ``503 SlowDown``, DynamoDB's 500 is ``InternalServerError``);
  or any other code with an explicit ``status``;
- ``delay_ms``: the response comes that much later (with or without an error);
- ``per_record`` (Kinesis PutRecords, DynamoDB BatchWriteItem): instead of failing the call, some entries fail
  as AWS fails them under load: PutRecords results with an ErrorCode, BatchWriteItem UnprocessedItems; the
  others are written.

``probability`` (0..1, default 1) is rolled per matching call (per entry with ``per_record``); ``count`` caps
how many calls (entries with ``per_record``) the rule faults, after which it stays listed as spent;
``expires_in_s`` removes the rule's effect after that long. Rules apply in the order they were added: delays
add up, the first rule that injects an error decides it. Every rule counts the calls it saw and faulted;
``totals`` counts every injected fault by service, operation and code for the life of the gateway.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from localaws.wire.errors import FAULT_KINDS, THROUGHPUT_SERVICES, fault_code, fault_kind

SERVICES = frozenset({"kinesis", "dynamodb", "s3", "glue", "iam", "sts", "cognito-identity", "sqs", "lambda",
                      "firehose", "athena", "*"})
PER_RECORD_OPERATIONS = {("kinesis", "PutRecords"), ("dynamodb", "BatchWriteItem")}
PER_RECORD_CODES = {"kinesis": ("ProvisionedThroughputExceededException", "InternalFailure"),
                    "dynamodb": ("ProvisionedThroughputExceededException",)}
MAX_DELAY_MS = 120_000


class FaultRuleError(ValueError):
    """A rule the admin API refuses (the message says why)."""


@dataclass
class FaultRule:
    id: str
    service: str
    operation: str = "*"
    error: str | None = None
    status: int | None = None
    delay_ms: int = 0
    probability: float = 1.0
    count: int | None = None
    expires_at: float | None = None
    per_record: bool = False
    created_at: float = field(default_factory=time.time)
    matched: int = 0  # calls (entries with per_record) the rule saw while active
    injected: int = 0  # calls (entries) it faulted
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, service: str, operation: str | None) -> bool:
        return self.service in ("*", service) and (self.operation == "*" or self.operation == operation)

    def active(self, now: float) -> bool:
        if self.expires_at is not None and now >= self.expires_at:
            return False
        return self.count is None or self.injected < self.count

    def roll(self) -> bool:
        """One matching call (or entry): is it faulted? Counts it."""
        self.matched += 1
        if self.count is not None and self.injected >= self.count:
            return False
        if self.probability >= 1.0 or self.rng.random() < self.probability:
            self.injected += 1
            return True
        return False

    def describe(self, now: float) -> dict[str, Any]:
        renders = None
        if self.error:
            kind = fault_kind(self.error)
            if kind and self.status is None and self.service != "*":
                status, code = fault_code(self.service, kind)
            else:
                status, code = self.status, self.error
            renders = f"{status} {code}" if status else code
            if self.per_record:
                renders = (f"entries with ErrorCode {self.error}" if self.service == "kinesis" else
                           f"UnprocessedItems (when none is processed: {renders})")
        return {
            "id": self.id, "service": self.service, "operation": self.operation, "error": self.error,
            "status": self.status, "renders_as": renders, "delay_ms": self.delay_ms, "probability": self.probability,
            "count": self.count, "per_record": self.per_record, "created_at": self.created_at,
            "expires_at": self.expires_at, "active": self.active(now), "matched": self.matched,
            "injected": self.injected,
        }


@dataclass(frozen=True)
class Decision:
    delay_ms: int = 0
    error: FaultRule | None = None  # the rule whose error answers the call
    per_record: FaultRule | None = None  # the rule that fails some of the call's entries

    def __bool__(self) -> bool:
        return bool(self.delay_ms or self.error or self.per_record)


def parse_rule(payload: Any, rule_id: str, now: float) -> FaultRule:
    if not isinstance(payload, dict):
        raise FaultRuleError("a fault rule is a JSON object")
    known = {"service", "operation", "error", "status", "delay_ms", "probability", "count", "expires_in_s",
             "per_record", "seed"}
    unknown = sorted(set(payload) - known)
    if unknown:
        raise FaultRuleError(f"unknown field(s) {', '.join(unknown)}; a rule has {', '.join(sorted(known))}")
    service = payload.get("service")
    if not isinstance(service, str) or service.lower() not in SERVICES:
        raise FaultRuleError(f"service must be one of {', '.join(sorted(SERVICES))}")
    service = service.lower()
    operation = payload.get("operation") or "*"
    if not isinstance(operation, str):
        raise FaultRuleError("operation must be an API operation name such as PutRecords, or *")
    error = payload.get("error")
    if error is not None and (not isinstance(error, str) or not error.strip()):
        raise FaultRuleError("error must be an AWS error code")
    status = _optional_int(payload, "status", 400, 599)
    kind = fault_kind(error) if error else None
    if error and kind is None and status is None:
        raise FaultRuleError(f"{error!r} is not a known fault ({', '.join(FAULT_KINDS)}): give its HTTP status too")
    if kind == "ProvisionedThroughputExceededException" and service not in THROUGHPUT_SERVICES:
        raise FaultRuleError("ProvisionedThroughputExceededException is a Kinesis and DynamoDB error; "
                             "use ThrottlingException for other services")
    delay_ms = _optional_int(payload, "delay_ms", 0, MAX_DELAY_MS) or 0
    if not error and not delay_ms:
        raise FaultRuleError("a rule injects an error, a delay (delay_ms), or both")
    probability = payload.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 <= probability <= 1:
        raise FaultRuleError("probability must be a number from 0 to 1")
    count = _optional_int(payload, "count", 1, None)
    expires_in = payload.get("expires_in_s")
    if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int | float)
                                   or expires_in <= 0):
        raise FaultRuleError("expires_in_s must be a positive number of seconds")
    per_record = payload.get("per_record", False)
    if not isinstance(per_record, bool):
        raise FaultRuleError("per_record must be true or false")
    if per_record:
        if (service, operation) not in PER_RECORD_OPERATIONS:
            raise FaultRuleError("per_record applies to kinesis PutRecords and dynamodb BatchWriteItem only")
        if kind not in PER_RECORD_CODES[service] or status is not None:
            raise FaultRuleError(f"per_record {service} entries fail with {' or '.join(PER_RECORD_CODES[service])}")
    seed = payload.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise FaultRuleError("seed must be an integer")
    return FaultRule(
        id=rule_id, service=service, operation=operation, error=(kind if kind and status is None else error),
        status=status, delay_ms=delay_ms, probability=float(probability), count=count,
        expires_at=None if expires_in is None else now + float(expires_in), per_record=per_record, created_at=now,
        rng=random.Random(seed),
    )


def _optional_int(payload: dict[str, Any], name: str, low: int, high: int | None) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise FaultRuleError(f"{name} must be an integer from {low}" + (f" to {high}" if high is not None else ""))
    return value


class FaultSet:
    """The gateway's rules; used from its event loop only (no locking)."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.totals: Counter[str] = Counter()
        self._next = 1

    def add(self, payload: Any, now: float | None = None) -> FaultRule:
        now = time.time() if now is None else now
        rule = parse_rule(payload, f"f{self._next}", now)
        self._next += 1
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str | None = None) -> list[FaultRule]:
        removed = [r for r in self.rules if rule_id is None or r.id == rule_id]
        self.rules = [r for r in self.rules if r not in removed]
        return removed

    def describe(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        return {"rules": [r.describe(now) for r in self.rules], "totals": dict(sorted(self.totals.items())),
                "injected": sum(self.totals.values())}

    def decide(self, service: str, operation: str | None, now: float | None = None) -> Decision:
        if not self.rules:
            return Decision()
        now = time.time() if now is None else now
        delay = 0
        error: FaultRule | None = None
        per_record: FaultRule | None = None
        for rule in self.rules:
            if not rule.matches(service, operation) or not rule.active(now):
                continue
            if rule.per_record:
                if per_record is None and error is None:
                    per_record = rule  # rolled per entry by the caller
                continue
            if error is not None and not rule.delay_ms:
                continue  # the call fails already: a second error rule neither sees nor counts it
            if not rule.roll():
                continue
            if rule.delay_ms:
                delay += rule.delay_ms
                self.count(service, operation, f"delay {rule.delay_ms}ms")
            if rule.error and error is None:
                error = rule
        if error is not None:
            per_record = None
        return Decision(min(delay, MAX_DELAY_MS), error, per_record)

    def count(self, service: str, operation: str | None, what: str, n: int = 1) -> None:
        self.totals[f"{service} {operation or '*'} {what}"] += n


# ---- per-entry faults ---------------------------------------------------------------------------------------------
def fail_entries(rule: FaultRule, total: int) -> list[int]:
    """Which of ``total`` entries the rule fails (rolled one by one, within its count)."""
    return [i for i in range(total) if rule.roll()]


def split_put_records(body: bytes, rule: FaultRule) -> tuple[bytes, list[int], int]:
    """(the request with only the entries let through, indexes of the failed ones, number of entries)."""
    request = json.loads(body)
    records = request.get("Records") or []
    failed = fail_entries(rule, len(records))
    if failed:
        skip = set(failed)
        request["Records"] = [r for i, r in enumerate(records) if i not in skip]
    return json.dumps(request).encode(), failed, len(records)


def put_records_result(upstream: bytes | None, failed: list[int], total: int, code: str, note: str) -> bytes:
    """The PutRecords response: Kinesis's results for the entries let through, ErrorCode entries for the rest,
    in request order. ``upstream`` is None when every entry failed (Kinesis then answers 200 all the same)."""
    response = json.loads(upstream) if upstream else {"FailedRecordCount": 0, "Records": []}
    passed = iter(response.get("Records") or [])
    skip = set(failed)
    message = ("Rate exceeded for shard in stream under account." if code == "ProvisionedThroughputExceededException"
               else "Internal service failure.") + note
    results = [{"ErrorCode": code, "ErrorMessage": message} if i in skip else next(passed) for i in range(total)]
    response["Records"] = results
    response["FailedRecordCount"] = sum(1 for r in results if r.get("ErrorCode"))
    return json.dumps(response).encode()


def split_batch_write(body: bytes, rule: FaultRule) -> tuple[bytes, dict[str, list[Any]], int]:
    """(the request without the unprocessed write requests, those requests by table, number of requests)."""
    request = json.loads(body)
    items: dict[str, list[Any]] = request.get("RequestItems") or {}
    flat = [(table, req) for table, reqs in items.items() for req in reqs]
    failed = set(fail_entries(rule, len(flat)))
    kept: dict[str, list[Any]] = {}
    unprocessed: dict[str, list[Any]] = {}
    for i, (table, req) in enumerate(flat):
        (unprocessed if i in failed else kept).setdefault(table, []).append(req)
    request["RequestItems"] = kept
    return json.dumps(request).encode(), unprocessed, len(flat)


def batch_write_result(upstream: bytes, unprocessed: dict[str, list[Any]]) -> bytes:
    response = json.loads(upstream)
    merged: dict[str, list[Any]] = response.get("UnprocessedItems") or {}
    for table, reqs in unprocessed.items():
        merged.setdefault(table, []).extend(reqs)
    response["UnprocessedItems"] = merged
    return json.dumps(response).encode()
