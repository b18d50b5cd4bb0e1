"""Discovers the deployed Kinesis event source mappings and runs a poller per mapping and shard,
children shards only after their parents are finished."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localaws.iam.role_sessions import RoleSession
from localaws.kinesis_consumer.access import StreamAccessDenied, check_stream_access
from localaws.kinesis_consumer.clients import client, kinesis_client
from localaws.kinesis_consumer.process import stop_all
from localaws.kinesis_consumer.shards import LIST_SHARDS_EVERY_S, ready_shards
from localaws.kinesis_consumer.status import write_status
from localaws.lambda_runtime import prompt_polling
from localaws.lambda_runtime.checkpoints import CheckpointStore
from localaws.lambda_runtime.invoker import (
    FunctionConfig,
    FunctionInvoker,
    base_environment,
    function_config,
    function_logs,
)
from localaws.lambda_runtime.mapping import MappingConfig
from localaws.lambda_runtime.shard_poller import ShardPoller

log = logging.getLogger("wildrydes.lambda")
DISCOVER_EVERY_S = 2.0


LAMBDA_SERVICE = "lambda.amazonaws.com"


class MappingRunner:
    """Runs the shard pollers of one mapping."""

    def __init__(self, config: MappingConfig, store: CheckpointStore,
                 doorbell: prompt_polling.Doorbell | None = None) -> None:
        self.config = config
        self.store = store
        self.doorbell = doorbell
        self.stop = threading.Event()
        # As on AWS, the mapping reads the stream and sends failed batches with the function's execution role,
        # and the function runs with it too.
        self.role = RoleSession(config.function.role, LAMBDA_SERVICE, f"{config.function.name}-{config.uuid[:8]}")
        self.kinesis: Any = None
        self.sqs: Any = None
        self.problem: str | None = None  # why the mapping cannot run (its role's permissions), as AWS reports it
        self.pollers: dict[str, tuple[ShardPoller, threading.Thread]] = {}
        self.thread = threading.Thread(target=self._run, name=f"mapping-{config.uuid[:8]}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _connect(self) -> bool:
        """Assume the execution role and check it may read the stream, as Lambda checks when a mapping is
        created; on failure say why in the status and the log, and try again later."""
        try:
            if self.kinesis is None:
                # Records go straight back into Lambda events as base64 and epoch seconds: skipping botocore's
                # base64 decoding and datetime parsing of every record saves a sixth of the read time.
                self.kinesis = kinesis_client(raw_data=True, role=self.role)
                self.sqs = client("sqs", self.role)
            check_stream_access(self.kinesis, self.config.stream_name, "execution role")
        except (ClientError, BotoCoreError, StreamAccessDenied) as error:
            if not isinstance(error, StreamAccessDenied):
                self.kinesis = None
            problem = str(error)
            if problem != self.problem:
                log.error("mapping=%s fn=%s cannot start: %s", self.config.uuid[:8], self.config.function.name,
                          problem)
            self.problem = problem
            return False
        self.problem = None
        return True

    def _run(self) -> None:
        while not self.stop.is_set() and not self._connect():
            self.stop.wait(LIST_SHARDS_EVERY_S)
        while not self.stop.is_set():
            try:
                self._start_ready_shards()
            except (ClientError, BotoCoreError) as error:
                log.warning("mapping=%s cannot list shards of %s: %s", self.config.uuid[:8],
                            self.config.stream_name, error)
            self.stop.wait(LIST_SHARDS_EVERY_S)
        for poller, thread in self.pollers.values():
            thread.join(timeout=30)
            poller.invoker.close()

    def _start_ready_shards(self) -> None:
        shards = self.kinesis.list_shards(StreamName=self.config.stream_name)["Shards"]
        finished = self.store.finished_shards(self.config.uuid) | {
            shard_id for shard_id, (_, thread) in self.pollers.items() if not thread.is_alive()
            and self.pollers[shard_id][0].checkpoint.finished
        }
        for shard_id in ready_shards(shards, self.pollers, finished):
            invoker = FunctionInvoker(self.config.function, base_environment(), self.role.credentials,
                                      logs=function_logs(self.config.function.name, self.role))
            poller = ShardPoller(self.config, shard_id, self.kinesis, self.sqs, self.store, invoker, self.stop,
                                 self.doorbell)
            thread = threading.Thread(target=self._poll, args=(poller,), name=f"shard-{shard_id}", daemon=True)
            self.pollers[shard_id] = (poller, thread)
            thread.start()
            log.info("mapping=%s fn=%s polling %s/%s", self.config.uuid[:8], self.config.function.name,
                     self.config.stream_name, shard_id)

    def _poll(self, poller: ShardPoller) -> None:
        try:
            poller.invoker.prepare()
            self._poll_until_done(poller)
        finally:
            poller.leave()

    def _poll_until_done(self, poller: ShardPoller) -> None:
        while not self.stop.is_set():
            try:
                poller.run()
                return
            except Exception:  # a backend hiccup: log it and resume from the checkpoint
                log.exception("mapping=%s shard=%s poller failed; resuming from its checkpoint",
                              self.config.uuid[:8], poller.shard_id)
                poller.cursor.restart()
                poller.buffer.clear()
                poller.checkpoint = self.store.load(self.config.uuid, poller.shard_id, time.time())
                self.stop.wait(1.0)

    def shutdown(self) -> None:
        self.stop.set()
        for poller, _ in list(self.pollers.values()):
            poller.interrupt()
        self.thread.join(timeout=60)

    def status(self, now: float) -> dict[str, Any]:
        shards = {shard_id: poller.status(now) for shard_id, (poller, _) in sorted(self.pollers.items())}
        return {
            "function": self.config.function.name, "stream": self.config.stream_name, "problem": self.problem,
            "lag_ms": max((s["lag_ms"] for s in shards.values() if not s["finished"]), default=0),
            **{key: sum(s[key] for s in shards.values()) for key in
               ("records_processed", "records_to_failure_destination", "invocations", "errors")},
            "shards": shards,
        }


class LambdaRuntime:
    def __init__(self, store: CheckpointStore, status_path: Path | None = None) -> None:
        self.store = store
        self.status_path = status_path
        self.started_at = time.time()
        self.lambda_client = client("lambda")
        self.runners: dict[str, MappingRunner] = {}
        self.stop = threading.Event()
        # Shared by every mapping's pollers: one function's invocation wakes the others' idle pollers.
        self.doorbell = prompt_polling.Doorbell() if prompt_polling.enabled() else None

    def discover(self) -> dict[str, MappingConfig]:
        configs: dict[str, MappingConfig] = {}
        functions: dict[str, FunctionConfig] = {}
        paginator = self.lambda_client.get_paginator("list_event_source_mappings")
        for page in paginator.paginate():
            for mapping in page["EventSourceMappings"]:
                if ":kinesis:" not in mapping.get("EventSourceArn", ""):
                    continue
                name = mapping["FunctionArn"].split(":function:", 1)[1].split(":")[0]
                if name not in functions:
                    functions[name] = function_config(self.lambda_client, name)
                config = MappingConfig.from_api(mapping, functions[name])
                if config.enabled:
                    configs[config.uuid] = config
        return configs

    def run(self) -> None:
        log.info("lambda runtime started")
        while not self.stop.is_set():
            try:
                self.reconcile(self.discover())
            except (ClientError, BotoCoreError) as error:
                log.warning("cannot read the event source mappings: %s", error)
            self.write_status()
            self.stop.wait(DISCOVER_EVERY_S)
        stop_all(self.runners.values())

    def write_status(self) -> None:
        """``<data dir>/lambda/status.json``, replaced atomically, read by `wildrydes local status`."""
        if self.status_path is None:
            return
        now = time.time()
        mappings = {uuid: runner.status(now) for uuid, runner in self.runners.items()}
        write_status(self.status_path, {"mappings": mappings}, started_at=self.started_at, updated_at=now)

    def reconcile(self, configs: dict[str, MappingConfig]) -> None:
        for uuid, runner in list(self.runners.items()):
            if configs.get(uuid) != runner.config:
                log.info("mapping=%s changed or removed; restarting its pollers", uuid[:8])
                runner.shutdown()
                del self.runners[uuid]
        for uuid, config in configs.items():
            if uuid not in self.runners:
                runner = MappingRunner(config, self.store, self.doorbell)
                self.runners[uuid] = runner
                runner.start()
