"""Discovers the delivery streams deployed on the local endpoint and runs each from its configuration;
a stream whose configuration changes (new VersionId) is restarted from its checkpoints."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from localaws.firehose.checkpoints import CheckpointStore
from localaws.firehose.config import StreamConfig, UnsupportedStream
from localaws.firehose.delivery import Clients, DeliveryStream
from localaws.firehose.deployment import Deployment, resolve
from localaws.firehose.prefixes import PrefixError
from localaws.firehose.query import QueryError
from localaws.firehose.schema import SchemaError
from localaws.kinesis_consumer.clients import client_config, kinesis_client
from localaws.kinesis_consumer.process import stop_all
from localaws.kinesis_consumer.status import write_status

log = logging.getLogger("wildrydes.firehose")
DISCOVER_EVERY_S = 2.0
STATUS_EVERY_S = 2.0


def client(service: str) -> Any:
    return kinesis_client() if service == "kinesis" else boto3.client(service, config=client_config())


class FirehoseRuntime:
    def __init__(self, data_dir: Path) -> None:
        self.store = CheckpointStore(data_dir / "firehose" / "checkpoints.sqlite")
        self.status_path = data_dir / "firehose" / "status.json"
        self.clients = Clients(client)
        self.firehose = self.clients.firehose
        self.streams: dict[str, DeliveryStream] = {}
        self.skipped: dict[str, str] = {}  # stream name → why it is not run
        self.stop = threading.Event()
        self.started_at = time.time()

    def describe_all(self) -> list[dict[str, Any]]:
        names: list[str] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self.firehose.list_delivery_streams(Limit=100, **kwargs)
            names.extend(page["DeliveryStreamNames"])
            if not page.get("HasMoreDeliveryStreams") or not page["DeliveryStreamNames"]:
                break
            kwargs["ExclusiveStartDeliveryStreamName"] = page["DeliveryStreamNames"][-1]
        descriptions = []
        for name in names:
            try:
                descriptions.append(
                    self.firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"])
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
        return descriptions

    def discover(self) -> dict[str, Deployment]:
        deployments: dict[str, Deployment] = {}
        descriptions = self.describe_all()
        listed = {d["DeliveryStreamName"] for d in descriptions}
        self.skipped = {name: reason for name, reason in self.skipped.items() if name in listed}
        for description in descriptions:
            name = description["DeliveryStreamName"]
            if description.get("DeliveryStreamStatus", "ACTIVE") != "ACTIVE":
                continue
            try:
                config = StreamConfig.from_description(description)
                deployments[name] = resolve(config, self.clients.lambda_, self.clients.glue)
            except (UnsupportedStream, PrefixError, KeyError, SchemaError) as error:
                self._skip(name, str(error))
            except ClientError as error:  # the function or the table does not exist (yet)
                if name in self.streams:  # a running stream keeps running through a passing error
                    deployments[name] = self.streams[name].deployment
                    log.warning("stream=%s cannot re-read its function or Glue table: %s", name, error)
                else:
                    self._skip(name, f"cannot resolve its function or Glue table: {error}")
        return deployments

    def _skip(self, name: str, reason: str) -> None:
        if self.skipped.get(name) != reason:
            log.warning("stream=%s not run: %s", name, reason)
        self.skipped[name] = reason

    def reconcile(self, deployments: dict[str, Deployment]) -> None:
        for name, stream in list(self.streams.items()):
            if deployments.get(name) != stream.deployment:
                log.info("stream=%s %s; stopping it", name, "changed" if name in deployments else "deleted")
                stream.shutdown()
                del self.streams[name]
        for name, deployment in deployments.items():
            if name in self.streams:
                continue
            try:
                stream = DeliveryStream(deployment, self.store, self.clients)
            except (SchemaError, QueryError) as error:
                self._skip(name, f"cannot start: {error}")
                continue
            self.skipped.pop(name, None)
            self.streams[name] = stream
            stream.start()

    def write_status(self) -> None:
        streams = {name: stream.stats.as_dict() for name, stream in self.streams.items()}
        for name, reason in self.skipped.items():
            streams.setdefault(name, {"problem": reason})
        write_status(self.status_path, {"streams": streams}, started_at=self.started_at, updated_at=time.time())

    def run(self) -> None:
        log.info("firehose runtime started")
        next_status = 0.0
        next_discovery = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_discovery:
                try:
                    self.reconcile(self.discover())
                except (ClientError, BotoCoreError) as error:
                    log.warning("cannot read the delivery streams: %s", error)
                next_discovery = now + DISCOVER_EVERY_S
            if now >= next_status:
                self.write_status()
                next_status = now + STATUS_EVERY_S
            self.stop.wait(0.2)
        stop_all(self.streams.values())
        self.write_status()
        log.info("firehose runtime stopped (buffers are re-read from the checkpoints on the next start)")
