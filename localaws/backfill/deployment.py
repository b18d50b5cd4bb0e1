"""What the history goes through, read from the control planes as the local runtimes read it: the
aggregator's and the summary writer's event source mappings, and the archive's delivery stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from localaws.errors import LocalError
from localaws.firehose import deployment as firehose_deployment
from localaws.firehose.config import StreamConfig
from localaws.lambda_runtime.invoker import function_config
from localaws.lambda_runtime.mapping import MappingConfig

DEFAULT_AGGREGATOR = "wildrydes-aggregator"
DEFAULT_WRITER = "wildrydes-summary-writer"
DEFAULT_DELIVERY_STREAM = "wildrydes-archive"


class HistoryError(LocalError):
    """The history cannot be loaded (with the reason)."""


@dataclass
class Clients:
    lambda_: Any
    firehose: Any
    glue: Any
    s3: Any
    dynamodb: Any

    @classmethod
    def from_environment(cls) -> Clients:
        return cls(*(boto3.client(s) for s in ("lambda", "firehose", "glue", "s3", "dynamodb")))


@dataclass(frozen=True)
class Deployment:
    aggregator: MappingConfig
    writer: MappingConfig
    delivery: firehose_deployment.Deployment

    @property
    def archive(self) -> StreamConfig:
        return self.delivery.config


def mapping_of(lambda_client: Any, name: str) -> MappingConfig:
    function = function_config(lambda_client, name)
    mappings = lambda_client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    if not mappings:
        raise HistoryError(f"{name} has no event source mapping: deploy the stack first")
    return MappingConfig.from_api(mappings[0], function)


def discover(clients: Clients, aggregator_name: str = DEFAULT_AGGREGATOR, writer_name: str = DEFAULT_WRITER,
             delivery_name: str = DEFAULT_DELIVERY_STREAM) -> Deployment:
    aggregator = mapping_of(clients.lambda_, aggregator_name)
    if not aggregator.tumbling_window_s:
        raise HistoryError(f"{aggregator_name}'s mapping has no tumbling window")
    description = clients.firehose.describe_delivery_stream(DeliveryStreamName=delivery_name)
    config = StreamConfig.from_description(description["DeliveryStreamDescription"])
    delivery = firehose_deployment.resolve(config, clients.lambda_, clients.glue)
    if delivery.columns is None or delivery.function is None:
        raise HistoryError(f"delivery stream {delivery_name} has no processing Lambda and Parquet conversion")
    return Deployment(aggregator, mapping_of(clients.lambda_, writer_name), delivery)
