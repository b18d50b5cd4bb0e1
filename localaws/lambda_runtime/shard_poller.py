"""Polls one shard for one event source mapping and invokes the function, as AWS Lambda does:
batches, batching window, tumbling windows with state, retries, bisection, partial batch responses,
record age, failure destination, and a durable checkpoint after every successful step."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from typing import Any

from localaws.kinesis_consumer.reading import IDLE_POLL_S, ShardCursor
from localaws.lambda_runtime import events
from localaws.lambda_runtime.checkpoints import Checkpoint, CheckpointStore
from localaws.lambda_runtime.invoker import FunctionInvoker, Invocation
from localaws.lambda_runtime.mapping import MappingConfig
from localaws.lambda_runtime.prompt_polling import Doorbell, idle_wait

log = logging.getLogger("wildrydes.lambda")

# Lambda ends a tumbling window early when its state passes 1 MB; tests lower it to force that.
MAX_STATE_BYTES = int(os.environ.get("WILDRYDES_LAMBDA_STATE_LIMIT_BYTES") or 1024 * 1024)
# Once the clock is past a window's end and the shard is read to its tip, the window is complete.
WINDOW_CLOSE_GRACE_S = 0.5


def queue_url_of(queue_arn: str) -> str:
    """The queue's URL from its ARN, as Lambda sends to a destination: with sqs:SendMessage alone (no
    GetQueueUrl, which the execution role is not granted)."""
    _, _, _, region, account, name = queue_arn.split(":", 5)
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


class ShardPoller:
    def __init__(self, mapping: MappingConfig, shard_id: str, kinesis: Any, sqs: Any,
                 store: CheckpointStore, invoker: FunctionInvoker, stop: threading.Event,
                 doorbell: Doorbell | None = None) -> None:
        """With a ``doorbell`` (prompt_polling.py) the poller reads promptly: just after a window's end, and when
        another mapping's function was invoked; without one, an idle shard is read once a second."""
        self.mapping = mapping
        self.shard_id = shard_id
        self.sqs = sqs
        self.store = store
        self.invoker = invoker
        self.stop = stop
        self.buffer: deque[dict[str, Any]] = deque()
        self.cursor = ShardCursor(kinesis, mapping.stream_name, shard_id, start=self._start)
        self.caught_up = False
        self.skip_before: float | None = None
        self.checkpoint: Checkpoint = store.load(mapping.uuid, shard_id, time.time())
        self.records_processed = 0
        self.records_failed = 0
        self.invocations = 0
        self.errors = 0
        self._read_error: Exception | None = None  # of a read-ahead, raised at the next read
        self._in_flight_since: float | None = None  # arrival of the oldest record of the batch being invoked
        self.doorbell = doorbell
        self.wake = doorbell.subscribe(mapping.uuid) if doorbell is not None else None

    def status(self, now: float) -> dict[str, Any]:
        """For `wildrydes local status`: how far behind the stream's tip this shard's processing is (the
        oldest record read but not yet processed, else the reader's MillisBehindLatest) and its counters."""
        lag_ms = self.cursor.millis_behind
        try:
            oldest = self.buffer[0]
        except IndexError:
            oldest = None
        if oldest is not None:
            lag_ms = max(lag_ms, int((now - events.arrival_seconds(oldest)) * 1000))
        in_flight = self._in_flight_since
        if in_flight is not None:  # read, handed to the function, not yet processed
            lag_ms = max(lag_ms, int((now - in_flight) * 1000))
        return {"lag_ms": lag_ms, "records_processed": self.records_processed,
                "records_to_failure_destination": self.records_failed, "invocations": self.invocations,
                "errors": self.errors, "finished": self.checkpoint.finished}

    # ---- reading ------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """The shard ended (resharding) and everything in it was read."""
        return self.cursor.ended

    def _start(self) -> dict[str, Any]:
        """Where reading starts when nothing was read since the (re)start: after the checkpoint, else at the
        mapping's starting position."""
        if self.checkpoint.sequence_number:
            return {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "StartingSequenceNumber": self.checkpoint.sequence_number}
        if self.mapping.starting_position != "TRIM_HORIZON":
            # LATEST means "from when the mapping first saw the shard": that instant is checkpointed,
            # so a restart before the first record does not skip what arrived meanwhile. kinesalite
            # hangs on an AT_TIMESTAMP iterator with no record after it, so read from the trim horizon
            # and skip older records here instead.
            self.skip_before = self.mapping.starting_timestamp if self.mapping.starting_position == "AT_TIMESTAMP" \
                else self.checkpoint.first_seen
        return {"ShardIteratorType": "TRIM_HORIZON"}

    def _fill(self) -> None:
        if self._read_error is not None:
            error, self._read_error = self._read_error, None
            raise error
        if self.closed or len(self.buffer) >= self.mapping.batch_size:
            return
        records = self.cursor.read()
        if records is None:  # the iterator expired
            return
        if self.skip_before is not None:
            records = [r for r in records if events.arrival_seconds(r) >= self.skip_before]
            if records:
                self.skip_before = None
        self.buffer.extend(records)
        self.caught_up = not records and self.cursor.millis_behind == 0

    def _read_ahead(self) -> None:
        try:
            self._fill()
        except Exception as error:  # surfaced by the loop's next read, after the invocation
            self._read_error = error

    def _invoke(self, event: dict[str, Any]) -> Invocation:
        """Invoke the function while the next page is read: GetRecords overlaps the invocation instead of
        waiting for it (at 10,000 records/s the window-end delay fell from p50 101 s to 73 s). Only reading
        overlaps; records are still processed and checkpointed one batch after the other."""
        reader = None
        if self._read_error is None and not self.closed and len(self.buffer) < self.mapping.batch_size:
            reader = threading.Thread(target=self._read_ahead, name=f"read-{self.shard_id}", daemon=True)
            reader.start()
        try:
            invocation = self.invoker.invoke(event)
            if invocation.ok and self.doorbell is not None:
                self.doorbell.ring(self.mapping.uuid)
            return invocation
        finally:
            if reader is not None:
                reader.join()

    # ---- the loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        if self.checkpoint.finished:
            return
        while not self.stop.is_set():
            self._fill()
            progressed = self._step_window() if self.mapping.tumbling_window_s else self._step_plain()
            if self.closed and not self.buffer and self._window_done():
                self.checkpoint.finished = True
                self.store.save(self.checkpoint)
                log.info("mapping=%s shard=%s finished (closed by resharding)", self._short(), self.shard_id)
                return
            if not progressed:
                self._idle()

    def _idle(self) -> None:
        """Wait before reading again: the idle interval, cut short (with a doorbell) at the open window's end or
        when another mapping's function was invoked."""
        if self.wake is None:
            self.stop.wait(IDLE_POLL_S)
            return
        self.wake.wait(idle_wait(time.time(), self._open_window_end(), WINDOW_CLOSE_GRACE_S))
        self.wake.clear()

    def _open_window_end(self) -> float | None:
        window_s = self.mapping.tumbling_window_s
        if not window_s:
            return None
        start = self.checkpoint.window_start
        if start is None and self.buffer:
            start = events.window_start_of(events.arrival_seconds(self.buffer[0]), window_s)
        return None if start is None else start + window_s

    def interrupt(self) -> None:
        """Ends an idle wait at once (the mapping is stopping)."""
        if self.wake is not None:
            self.wake.set()

    def leave(self) -> None:
        """The poller is done: other mappings' invocations no longer ring for it."""
        if self.doorbell is not None and self.wake is not None:
            self.doorbell.unsubscribe(self.wake)

    def _window_done(self) -> bool:
        if self.checkpoint.window_start is None:
            return True
        self._final_invoke(terminated_early=False)
        return self.checkpoint.window_start is None

    def _take_batch(self, limit_window: float | None = None) -> list[dict[str, Any]] | None:
        """The next batch, honouring BatchSize and MaximumBatchingWindowInSeconds; None to wait."""
        if not self.buffer:
            return None
        window_s = self.mapping.tumbling_window_s
        batch: list[dict[str, Any]] = []
        for record in self.buffer:
            if len(batch) >= self.mapping.batch_size:
                break
            if limit_window is not None and events.window_start_of(events.arrival_seconds(record), window_s) \
                    != limit_window:
                break
            batch.append(record)
        full = len(batch) >= self.mapping.batch_size or len(batch) < len(self.buffer) or self.closed
        if not full and self.mapping.batching_window_s > 0:
            oldest = events.arrival_seconds(batch[0])
            if time.time() - oldest < self.mapping.batching_window_s:
                return None
        for _ in batch:
            self.buffer.popleft()
        return batch

    def _step_plain(self) -> bool:
        batch = self._take_batch()
        if not batch:
            return False
        self._process(batch, state=None)
        return True

    def _step_window(self) -> bool:
        window_s = self.mapping.tumbling_window_s
        if self.buffer:
            first_window = events.window_start_of(events.arrival_seconds(self.buffer[0]), window_s)
            current = self.checkpoint.window_start
            if current is not None and first_window > current:
                self._final_invoke(terminated_early=False)
                return True
            batch = self._take_batch(limit_window=first_window)
            if not batch:
                return False
            if current is None:
                self.checkpoint.window_start = first_window
                self.checkpoint.window_state = {}
            self._process(batch, state=self.checkpoint.window_state)
            return True
        current = self.checkpoint.window_start
        if current is not None and self.caught_up and time.time() >= current + window_s + WINDOW_CLOSE_GRACE_S:
            self._final_invoke(terminated_early=False)
            return True
        return False

    # ---- invoking ----------------------------------------------------------------------------------
    def _event(self, records: list[dict[str, Any]], state: dict[str, Any] | None, final: bool = False,
               terminated_early: bool = False) -> dict[str, Any]:
        m = self.mapping
        if state is None:
            return events.kinesis_event(records, self.shard_id, m.stream_arn, m.region, m.function.role)
        assert self.checkpoint.window_start is not None
        return events.window_event(records, self.shard_id, m.stream_arn, m.region, m.function.role,
                                   self.checkpoint.window_start, m.tumbling_window_s, state, final,
                                   terminated_early)

    def _process(self, batch: list[dict[str, Any]], state: dict[str, Any] | None) -> None:
        """Invoke until the batch succeeds, is bisected, or is given up; checkpoint what succeeded."""
        batch = self._drop_expired(batch)
        if not batch:
            return
        outer = self._in_flight_since is None  # a bisected half runs inside its whole batch's call
        if outer:
            self._in_flight_since = events.arrival_seconds(batch[0])
        try:
            self._invoke_until_done(batch, state)
        finally:
            if outer:
                self._in_flight_since = None

    def _invoke_until_done(self, batch: list[dict[str, Any]], state: dict[str, Any] | None) -> None:
        attempts = 0
        while not self.stop.is_set():
            invocation = self._invoke(self._event(batch, state))
            attempts += 1
            failed_from = self._failed_index(invocation, batch)
            if invocation.ok and failed_from is None:
                self._log(batch, invocation, "ok")
                self._succeed(batch, invocation.result, state)
                return
            if invocation.ok and failed_from is not None and failed_from > 0 and state is None:
                # Partial batch response: checkpoint the records before the first failure, retry the rest.
                self._log(batch, invocation, f"partial: {len(batch) - failed_from} to retry")
                self._succeed(batch[:failed_from], invocation.result, state)
                batch = batch[failed_from:]
            else:
                self._log(batch, invocation, "error")
            if self.mapping.bisect_on_error and len(batch) > 1:
                middle = len(batch) // 2
                self._process(batch[:middle], state)
                self._process(batch[middle:], self.checkpoint.window_state if state is not None else None)
                return
            if 0 <= self.mapping.max_retry_attempts < attempts:
                self._give_up(batch, "RetryAttemptsExhausted", attempts, invocation.error_type or "Unhandled")
                return
            batch = self._drop_expired(batch)
            if not batch:
                return
            self.stop.wait(min(5.0, 0.2 * 2 ** (attempts - 1)))

    @staticmethod
    def _failed_index(invocation: Invocation, batch: list[dict[str, Any]]) -> int | None:
        if not invocation.ok or not isinstance(invocation.result, dict):
            return None
        failures = invocation.result.get("batchItemFailures") or []
        if not failures:
            return None
        positions = {r["SequenceNumber"]: i for i, r in enumerate(batch)}
        indexes = [positions.get(f.get("itemIdentifier"), 0) for f in failures]
        return min(indexes)

    def _succeed(self, batch: list[dict[str, Any]], result: Any, state: dict[str, Any] | None) -> None:
        self.records_processed += len(batch)
        self.checkpoint.sequence_number = batch[-1]["SequenceNumber"]
        if state is not None:
            new_state = (result or {}).get("state", {}) if isinstance(result, dict) else {}
            self.checkpoint.window_state = new_state
            if len(json.dumps(new_state)) > MAX_STATE_BYTES:
                self.store.save(self.checkpoint)
                self._final_invoke(terminated_early=True)
                return
        self.store.save(self.checkpoint)

    def _final_invoke(self, terminated_early: bool) -> None:
        attempts = 0
        while not self.stop.is_set():
            invocation = self._invoke(
                self._event([], self.checkpoint.window_state, final=True, terminated_early=terminated_early))
            attempts += 1
            self._log([], invocation, "ok" if invocation.ok else "error", final=True)
            if invocation.ok:
                break
            if 0 <= self.mapping.max_retry_attempts < attempts:
                self._give_up([], "RetryAttemptsExhausted", attempts, invocation.error_type or "Unhandled")
                break
            self.stop.wait(min(5.0, 0.2 * 2 ** (attempts - 1)))
        else:
            return
        if terminated_early:
            self.checkpoint.window_state = {}
        else:
            self.checkpoint.window_start = None
            self.checkpoint.window_state = {}
        self.store.save(self.checkpoint)

    def _drop_expired(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        max_age = self.mapping.max_record_age_s
        if max_age < 0:
            return batch
        cutoff = time.time() - max_age
        expired = [r for r in batch if events.arrival_seconds(r) < cutoff]
        if expired:
            self._give_up(expired, "RecordAgeExceeded", 0, None)
        return [r for r in batch if events.arrival_seconds(r) >= cutoff]

    def _give_up(self, records: list[dict[str, Any]], condition: str, attempts: int, error: str | None) -> None:
        self.records_failed += len(records)
        message = events.failure_destination_message(
            function_arn=self.mapping.function.arn, condition=condition, attempts=attempts, error_type=error,
            shard_id=self.shard_id, stream_arn=self.mapping.stream_arn, records=records, now=time.time())
        destination = self.mapping.on_failure_arn
        log.warning("mapping=%s shard=%s gave up on %d records (%s)%s", self._short(), self.shard_id,
                    len(records), condition, f", sent to {destination}" if destination else ", discarded")
        if destination and ":sqs:" in destination:
            self.sqs.send_message(QueueUrl=queue_url_of(destination), MessageBody=json.dumps(message))
        if records:
            self.checkpoint.sequence_number = records[-1]["SequenceNumber"]
            self.store.save(self.checkpoint)

    def _short(self) -> str:
        return self.mapping.uuid[:8]

    def _log(self, batch: list[dict[str, Any]], invocation: Invocation, outcome: str, final: bool = False) -> None:
        window = ""
        if self.mapping.tumbling_window_s and self.checkpoint.window_start is not None:
            window = f" window={events.iso(self.checkpoint.window_start)}{' final' if final else ''}"
        error = f" error={invocation.error_type}: {invocation.error_message}" if not invocation.ok else ""
        self.invocations += 1
        self.errors += 0 if invocation.ok else 1
        log.info("fn=%s mapping=%s shard=%s records=%d%s outcome=%s duration=%.0fms%s",
                 self.mapping.function.name, self._short(), self.shard_id, len(batch), window, outcome,
                 invocation.duration_ms, error)
