"""The entry points: a request's operation (``operation_of``), whether it is public (``is_public``) and the
authorizations it needs (``accesses``), dispatched to the module of its service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from localaws.iam.actions.athena import athena_accesses
from localaws.iam.actions.dynamodb import dynamodb_accesses
from localaws.iam.actions.glue import glue_accesses
from localaws.iam.actions.json_services import cognito_identity_accesses, firehose_accesses, logs_accesses
from localaws.iam.actions.kinesis import kinesis_accesses
from localaws.iam.actions.lambda_routes import lambda_route
from localaws.iam.actions.lambda_service import lambda_accesses
from localaws.iam.actions.model import Access, IteratorResolver, QueryResolver, RequestInfo, UnmappedRequest
from localaws.iam.actions.parsing import headers_of, is_json, json_body, query_params
from localaws.iam.actions.query_services import cloudformation_accesses, iam_accesses, sqs_accesses, sts_accesses
from localaws.iam.actions.s3 import s3_accesses
from localaws.iam.actions.s3_operations import s3_locate

# IAM service prefix of each signing name (Service Authorization Reference); all equal their signing name.
_PREFIX = {
    "kinesis": "kinesis", "dynamodb": "dynamodb", "s3": "s3", "sqs": "sqs", "glue": "glue", "lambda": "lambda",
    "firehose": "firehose", "athena": "athena", "sts": "sts", "iam": "iam", "logs": "logs",
    "cognito-identity": "cognito-identity", "cloudformation": "cloudformation",
}
_QUERY_SERVICES = frozenset({"sts", "iam", "cloudformation"})
_PUBLIC = {
    "cognito-identity": frozenset({"GetId", "GetOpenIdToken", "GetCredentialsForIdentity", "UnlinkIdentity"}),
    "sts": frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}),
}


def is_public(service: str, operation: str | None) -> bool:
    """Operations AWS serves without a signature: Cognito GetId/GetOpenIdToken/GetCredentialsForIdentity/
    UnlinkIdentity (``accesses`` returns [] for them) and STS AssumeRoleWithWebIdentity/AssumeRoleWithSAML (which
    return their Access, to be checked against the role's trust policy)."""
    return operation is not None and operation in _PUBLIC.get(service, frozenset())


_HANDLERS: dict[str, Callable[[RequestInfo, str, Mapping[str, Any]], list[Access]]] = {
    "dynamodb": dynamodb_accesses,
    "sqs": sqs_accesses,
    "glue": glue_accesses,
    "firehose": firehose_accesses,
    "logs": logs_accesses,
    "cognito-identity": cognito_identity_accesses,
    "cloudformation": cloudformation_accesses,
    "sts": sts_accesses,
    "iam": iam_accesses,
}


def operation_of(request: RequestInfo) -> str:
    """The API operation name (as in the SDK models); S3 and Lambda REST operations are derived from the method,
    path and query. Raises UnmappedRequest when unknown."""
    if request.service == "s3":
        return s3_locate(request).operation
    if request.service == "lambda":
        return lambda_route(request).operation
    if request.service not in _PREFIX:
        raise UnmappedRequest(f"unknown service {request.service!r}")
    if request.operation:
        return request.operation
    target = headers_of(request).get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if request.service in _QUERY_SERVICES or request.service == "sqs":
        action = query_params(request).get("Action")
        if action:
            return action
    raise UnmappedRequest(f"cannot determine the {request.service} operation of {request.method} {request.path}")


def accesses(
    request: RequestInfo,
    stream_of_iterator: IteratorResolver | None = None,
    workgroup_of_query: QueryResolver | None = None,
) -> list[Access]:
    """The authorizations ``request`` needs (all must be allowed); [] for public Cognito identity operations.

    ``stream_of_iterator`` maps a Kinesis shard iterator to its stream name (or ARN), for GetRecords, whose body
    has only the iterator (pass ``kinesalite_iterator_stream`` in front of kinesalite). ``workgroup_of_query`` maps
    an Athena query execution id to its workgroup name, for the operations that name only the query.
    """
    service = request.service
    if service not in _PREFIX:
        raise UnmappedRequest(f"unknown service {service!r}")
    if service == "s3":
        return s3_accesses(request)
    if service == "lambda":
        return lambda_accesses(request)
    operation = operation_of(request)
    if service == "cognito-identity" and is_public(service, operation):
        return []
    if service in _QUERY_SERVICES or (service == "sqs" and not is_json(request)):
        params: dict[str, Any] = dict(query_params(request))
    else:
        params = json_body(request.body)
    if service == "kinesis":
        return kinesis_accesses(request, operation, params, stream_of_iterator)
    if service == "athena":
        return athena_accesses(request, operation, params, workgroup_of_query)
    return _HANDLERS[service](request, operation, params)
