"""Discovers the delivery streams deployed on the local endpoint and runs each from its configuration;
a stream whose configuration changes (new VersionId) is restarted from its checkpoints."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localaws.firehose.checkpoints import CheckpointStore
from localaws.firehose.config import StreamConfig, UnsupportedStream
from localaws.firehose.delivery import Clients, DeliveryStream
from localaws.firehose.deployment import Deployment, resolve
from localaws.firehose.prefixes import PrefixError
from localaws.firehose.query import QueryError
from localaws.firehose.schema import SchemaError
from localaws.iam.role_sessions import RoleSession
from localaws.kinesis_consumer.access import StreamAccessDenied
from localaws.kinesis_consumer.clients import client, kinesis_client
from localaws.kinesis_consumer.process import stop_all
from localaws.kinesis_consumer.status import write_status

log = logging.getLogger("wildrydes.firehose")
DISCOVER_EVERY_S = 2.0
STATUS_EVERY_S = 2.0


FIREHOSE_SERVICE = "firehose.amazonaws.com"
LAMBDA_SERVICE = "lambda.amazonaws.com"


def service_client(service: str) -> Any:
    """The runtime's own clients (it lists and describes the delivery streams as the account's admin)."""
    return kinesis_client() if service == "kinesis" else client(service)


class StreamRoles:
    """The clients of a delivery stream, signing as its roles (assumed as firehose.amazonaws.com with the
    account as external id, as Firehose does): the source role reads Kinesis, the destination role the rest."""

    def __init__(self) -> None:
        self._sessions: dict[str, RoleSession] = {}
        self._functions: dict[str, RoleSession] = {}

    def function_session(self, role_arn: str) -> RoleSession:
        """The processing function's execution role, which Lambda (not Firehose) assumes to run it."""
        if role_arn not in self._functions:
            self._functions[role_arn] = RoleSession(role_arn, LAMBDA_SERVICE, "firehose-processor")
        return self._functions[role_arn]

    def session(self, role_arn: str) -> RoleSession:
        if role_arn not in self._sessions:
            account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else None
            self._sessions[role_arn] = RoleSession(role_arn, FIREHOSE_SERVICE, "firehose-delivery",
                                                   external_id=account)
        return self._sessions[role_arn]

    def clients(self, config: StreamConfig) -> Clients:
        source = self.session(config.source_role_arn or config.role_arn)
        destination = self.session(config.role_arn or config.source_role_arn)
        return Clients(lambda service: kinesis_client(role=source) if service == "kinesis"
                       else client(service, destination))


class FirehoseRuntime:
    def __init__(self, data_dir: Path) -> None:
        self.store = CheckpointStore(data_dir / "firehose" / "checkpoints.sqlite")
        self.status_path = data_dir / "firehose" / "status.json"
        self.firehose = service_client("firehose")
        self.roles = StreamRoles()
        self.stream_clients: dict[str, Clients] = {}
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
                clients = self._clients(config)
                deployments[name] = resolve(config, clients.lambda_, clients.glue, clients.kinesis, clients.s3)
            except (UnsupportedStream, PrefixError, KeyError, SchemaError) as error:
                self._skip(name, str(error))
            except (ClientError, BotoCoreError, StreamAccessDenied) as error:  # nothing to read (yet), or denied
                if name in self.streams:  # a running stream keeps running through a passing error
                    deployments[name] = self.streams[name].deployment
                    log.warning("stream=%s cannot re-read its function or Glue table: %s", name, error)
                else:
                    self._skip(name, f"cannot resolve its function or Glue table: {error}")
        return deployments

    def _clients(self, config: StreamConfig) -> Clients:
        key = f"{config.source_role_arn}|{config.role_arn}"
        if key not in self.stream_clients:
            self.stream_clients[key] = self.roles.clients(config)
        return self.stream_clients[key]

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
                stream = DeliveryStream(deployment, self.store, self._clients(deployment.config),
                                        self.roles.function_session)
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
