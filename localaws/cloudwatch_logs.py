"""Log lines sent to CloudWatch Logs as AWS's services send them: a Lambda function's output to its log group
(``/aws/lambda/<function>``, one stream per execution environment), a Firehose's delivery errors to the group
and stream its configuration names. Written with the role's credentials, so a role without ``logs:`` grants
gets no logs there (and the shipper says so once in the component's own log); never blocks or fails the caller.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("wildrydes.logs")
FLUSH_EVERY_S = 1.0
MAX_BATCH = 1000  # events per PutLogEvents (AWS allows 10,000 and 1 MiB)
MAX_PENDING = 20_000  # beyond this the oldest lines are dropped (and counted)
MAX_EVENT_BYTES = 200_000


def lambda_stream_name(now: float | None = None) -> str:
    """``2026/12/04/[$LATEST]<32 hex>``, as Lambda names an execution environment's stream."""
    return time.strftime("%Y/%m/%d", time.gmtime(now)) + f"/[$LATEST]{uuid.uuid4().hex}"


class LogShipper:
    def __init__(self, client: Callable[[], Any], group: str, stream: str, *, create_stream: bool = True,
                 flush_every_s: float = FLUSH_EVERY_S) -> None:
        self._client_factory = client
        self._client: Any = None
        self.group = group
        self.stream = stream
        self._create_stream = create_stream
        self._pending: deque[tuple[int, str]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self.shipped = 0
        self.dropped = 0
        self.problem: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"logs-{stream[-8:]}", daemon=True)
        self._flush_every_s = flush_every_s
        self._thread.start()

    def add(self, message: str, timestamp_ms: int | None = None) -> None:
        message = message.rstrip("\n")
        if not message:
            return
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                self._pending.popleft()
                self.dropped += 1
            self._pending.append((timestamp_ms or int(time.time() * 1000), message[:MAX_EVENT_BYTES]))

    def close(self, timeout: float = 5.0) -> None:
        self._closed.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._flush_every_s)
            self._wake.clear()
            self.flush()
        self.flush()

    def flush(self) -> None:
        while True:
            with self._lock:
                batch = [self._pending.popleft() for _ in range(min(MAX_BATCH, len(self._pending)))]
            if not batch:
                return
            if not self._put(batch):
                self.dropped += len(batch)
                return

    def _put(self, batch: list[tuple[int, str]]) -> bool:
        try:
            if self._client is None:
                self._client = self._client_factory()
            if self._create_stream:
                try:
                    self._client.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                        raise
                self._create_stream = False
            events = [{"timestamp": ts, "message": message} for ts, message in sorted(batch, key=lambda e: e[0])]
            self._client.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=events)
        except (ClientError, BotoCoreError) as error:
            problem = f"cannot write logs to CloudWatch Logs {self.group}/{self.stream}: {error}"
            if problem != self.problem:
                log.warning("%s", problem)
            self.problem = problem
            return False
        self.problem = None
        self.shipped += len(batch)
        return True
