"""Runs one delivery stream: its shards (parents before children), its buffers' interval flushes and
its object writer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localaws.cloudwatch_logs import LogShipper
from localaws.firehose.buffers import BufferSet
from localaws.firehose.checkpoints import CheckpointStore
from localaws.firehose.convert import RowConverter, SerDeOptions
from localaws.firehose.deployment import Deployment
from localaws.firehose.processor import LambdaProcessor
from localaws.firehose.progress import ShardProgress
from localaws.firehose.reader import ShardReader
from localaws.firehose.router import Router
from localaws.firehose.shard import ShardDelivery
from localaws.firehose.stats import StreamStats
from localaws.firehose.writer import ObjectWriter
from localaws.iam.role_sessions import RoleSession
from localaws.kinesis_consumer.shards import LIST_SHARDS_EVERY_S, ready_shards
from localaws.lambda_runtime.invoker import FunctionInvoker, base_environment, function_logs

log = logging.getLogger("wildrydes.firehose")
TICK_S = 0.1
JOIN_TIMEOUT_S = 3.0


class Clients:
    """The boto3 clients a delivery stream uses (all through AWS_ENDPOINT_URL)."""

    def __init__(self, make: Any) -> None:
        self.kinesis = make("kinesis")
        self.s3 = make("s3")
        self.glue = make("glue")
        self.lambda_ = make("lambda")
        self.firehose = make("firehose")
        self.logs = make("logs")


class DeliveryStream:
    def __init__(self, deployment: Deployment, store: CheckpointStore, clients: Clients,
                 role_session: Callable[[str], RoleSession] | None = None) -> None:
        config = deployment.config
        self.deployment = deployment
        self.config = config
        self.store = store
        self.clients = clients
        self.role_session = role_session  # the processing function runs with its own execution role
        self.stop = threading.Event()
        self.stats = StreamStats(config.name, config.version, config.source_stream_name)
        self.buffers = BufferSet(config.buffer_bytes, config.buffer_interval_s)
        self.converter = RowConverter(list(deployment.columns), SerDeOptions(
            config.conversion.deserializer if config.conversion else None)) if deployment.columns else None
        self.function = deployment.function
        self.router = Router(config, self.buffers, self.converter, self.stats)
        self.error_log = (LogShipper(lambda: clients.logs, *config.error_log, create_stream=False)
                          if config.error_log else None)
        self.writer = ObjectWriter(config, clients.s3, self.stats, self.stop, self.converter, self.error_log)
        self.shards: dict[str, tuple[ShardDelivery, threading.Thread, ShardProgress]] = {}
        self.invokers: list[FunctionInvoker] = []
        self.thread = threading.Thread(target=self._run, name=f"stream-{config.name}", daemon=True)

    # ---- running -------------------------------------------------------------------------------------
    def start(self) -> None:
        self.writer.start()
        self.thread.start()
        log.info("stream=%s version=%s source=%s -> s3://%s/%s (buffer %d bytes / %.0f s%s%s)", self.config.name,
                 self.config.version, self.config.source_stream_name, self.config.bucket, self.config.prefix,
                 self.config.buffer_bytes, self.config.buffer_interval_s,
                 f", lambda {self.function.name}" if self.function else "",
                 f", parquet {self.config.conversion.database}.{self.config.conversion.table}"
                 if self.config.conversion else "")

    def _run(self) -> None:
        next_discovery = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_discovery:
                try:
                    self._start_ready_shards()
                except (ClientError, BotoCoreError) as error:
                    log.warning("stream=%s cannot list the shards of %s: %s", self.config.name,
                                self.config.source_stream_name, error)
                next_discovery = now + LIST_SHARDS_EVERY_S
            for buffer in self.buffers.due():
                if not self.writer.submit(buffer):
                    break
            self._update_stats()
            self.stop.wait(TICK_S)

    def _start_ready_shards(self) -> None:
        shards = self.clients.kinesis.list_shards(StreamName=self.config.source_stream_name)["Shards"]
        finished = self.store.finished_shards(self.config.key) | {
            shard_id for shard_id, (_, _, progress) in self.shards.items() if progress.finished}
        for shard_id in ready_shards(shards, self.shards, finished):
            self._start_shard(shard_id)

    def _start_shard(self, shard_id: str) -> None:
        progress = ShardProgress(self.config.key, shard_id, self.store)
        stats = self.stats.shard(shard_id)
        stats.checkpoint = progress.sequence_number
        reader = ShardReader(self.clients.kinesis, self.config.source_stream_name, shard_id,
                             progress.sequence_number, stats, self.stop)
        processor = None
        processor_config = self.config.processor
        if processor_config is not None and self.function is not None:
            role = self.role_session(self.function.role) if self.role_session and self.function.role else None
            invoker = FunctionInvoker(self.function, base_environment(), role.credentials if role else None,
                                      logs=function_logs(self.function.name, role) if role else None)
            self.invokers.append(invoker)
            processor = LambdaProcessor(invoker, lambda_arn=processor_config.lambda_arn,
                                        retries=processor_config.retries, delivery_stream_arn=self.config.arn,
                                        source_stream_arn=self.config.source_stream_arn, region=self.config.region,
                                        stop=self.stop)
        delivery = ShardDelivery(
            shard_id, reader, progress, self.router, processor,
            processor_config.buffer_bytes if processor_config else 0,
            processor_config.buffer_interval_s if processor_config else 0.0,
            self.writer.submit, self.stop)
        thread = threading.Thread(target=self._deliver, args=(delivery,), name=f"shard-{shard_id}", daemon=True)
        self.shards[shard_id] = (delivery, thread, progress)
        thread.start()
        log.info("stream=%s reading %s/%s %s", self.config.name, self.config.source_stream_name, shard_id,
                 f"after {progress.sequence_number}" if progress.sequence_number else "from TRIM_HORIZON")

    def _deliver(self, delivery: ShardDelivery) -> None:
        try:
            delivery.run()
        except Exception:  # the shard stops; its records stay unchecked and are re-read after a restart
            log.exception("stream=%s shard=%s delivery failed; restart the firehose process to resume",
                          self.config.name, delivery.shard_id)
            self.stats.problem = f"shard {delivery.shard_id} failed; see the log"

    def _update_stats(self) -> None:
        _, records, size = self.buffers.stats()
        self.stats.buffered_records, self.stats.buffered_bytes = records, size
        invocations = errors = 0
        for delivery, _, progress in self.shards.values():
            shard = self.stats.shard(delivery.shard_id)
            shard.checkpoint = progress.sequence_number
            shard.finished = progress.finished
            if delivery.processor is not None:
                invocations += delivery.processor.invocations
                errors += delivery.processor.errors
        self.stats.lambda_invocations, self.stats.lambda_errors = invocations, errors

    def shutdown(self) -> None:
        """Stops promptly without flushing: whatever is buffered is re-read from the checkpoints."""
        self.stop.set()
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        self.thread.join(max(0.0, deadline - time.monotonic()))
        for _, thread, _ in self.shards.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        self.writer.thread.join(max(0.0, deadline - time.monotonic()))
        if all(not thread.is_alive() for _, thread, _ in self.shards.values()):
            for invoker in self.invokers:
                invoker.close()
        if self.error_log is not None:
            self.error_log.close(timeout=1.0)
