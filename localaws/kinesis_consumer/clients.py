"""The boto3 clients of a consumer process (all through AWS_ENDPOINT_URL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from localaws.iam.role_sessions import RoleSession, with_credentials
from localaws.kinesis_consumer import fast_json
from localaws.kinesis_consumer.records_parser import RecordsParserFactory


def client_config() -> Config:
    return Config(retries={"max_attempts": 10, "mode": "adaptive"}, max_pool_connections=50)


def kinesis_client(*, raw_data: bool = False, role: RoleSession | None = None) -> Any:
    """A Kinesis client that keeps each record's ApproximateArrivalTimestamp as the epoch seconds on the wire:
    botocore turning each into a datetime costs as much as the HTTP call. With ``raw_data`` a record's Data
    also stays the base64 text on the wire, for a consumer that hands it on as base64. With ``role`` it signs as
    that role (the consumer's work is done with the role's permissions, as AWS's services do). GetRecords pages
    are parsed with orjson unless ``WILDRYDES_FAST_JSON=0`` (records_parser.py)."""
    session = botocore.session.get_session()
    if fast_json.enabled():
        session.register_component("response_parser_factory", RecordsParserFactory(raw_data))
    defaults: dict[str, Callable[[Any], Any]] = {"timestamp_parser": lambda value: value}
    if raw_data:
        defaults["blob_parser"] = lambda value: value
    session.get_component("response_parser_factory").set_parser_defaults(**defaults)
    return boto3.Session(botocore_session=with_credentials(session, role)).client("kinesis", config=client_config())


def client(service: str, role: RoleSession | None = None) -> Any:
    """A client of ``service``, signing as ``role`` when given, else with the process's own credentials."""
    session = with_credentials(botocore.session.get_session(), role)
    return boto3.Session(botocore_session=session).client(service, config=client_config())
