"""Lambda: function, layer and event source mapping ARNs of each route, and the lambda:FunctionArn condition key."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from localaws.iam.actions.lambda_routes import lambda_route
from localaws.iam.actions.model import Access, ContextValue, RequestInfo, UnmappedRequest, make_arn, one
from localaws.iam.actions.parsing import json_body, member_str

_LAMBDA_STAR = frozenset({"ListFunctions", "ListEventSourceMappings", "CreateEventSourceMapping",
                          "GetAccountSettings", "ListLayers", "ListLayerVersions"})

_FUNCTION = re.compile(
    r"(?:arn:(?P<partition>[\w-]+):lambda:(?P<region>[\w-]+):(?P<account>\d{12}):function:"
    r"|(?P<partial>\d{12}):function:)?(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?"
)


def _function_arn(request: RequestInfo, function: str, qualifier: str | None = None) -> str:
    """The ARN of a FunctionName: a name, ``name:qualifier``, a partial ARN ``123456789012:function:name[:q]`` or a
    full ARN; ``qualifier`` (the Qualifier query parameter) wins over one in the name."""
    match = _FUNCTION.fullmatch(function)
    if not match:
        raise UnmappedRequest(f"an unreadable Lambda function name {function!r}")
    partition = match.group("partition") or "aws"
    region = match.group("region") or request.region
    account = match.group("account") or match.group("partial") or request.account
    qualifier = qualifier or match.group("qualifier")
    arn = f"arn:{partition}:lambda:{region}:{account}:function:{match.group('name')}"
    return f"{arn}:{qualifier}" if qualifier else arn


def _layer_arn(request: RequestInfo, layer: str, version: str | None) -> str:
    arn = layer if layer.startswith("arn:") else make_arn("lambda", request.region, request.account, f"layer:{layer}")
    return f"{arn}:{version}" if version else arn


def lambda_accesses(request: RequestInfo) -> list[Access]:
    route = lambda_route(request)
    action = f"lambda:{route.action}"
    labels = route.labels
    query = {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
    context: dict[str, ContextValue] = {}
    if route.operation in ("CreateEventSourceMapping", "UpdateEventSourceMapping"):
        function = member_str(json_body(request.body), "FunctionName")
        if function:
            context["lambda:FunctionArn"] = _function_arn(request, function)
    if route.operation in _LAMBDA_STAR:
        return one(action, context=context)
    if route.operation == "CreateFunction":
        function = member_str(json_body(request.body), "FunctionName")
        if not function:
            raise UnmappedRequest("CreateFunction without FunctionName")
        return one(action, _function_arn(request, function))
    if route.operation == "GetLayerVersionByArn":
        return one(action, query["Arn"]) if query.get("Arn") else one(action)
    if "FunctionName" in labels:
        return one(action, _function_arn(request, labels["FunctionName"], query.get("Qualifier") or None))
    if "UUID" in labels:
        mapping = make_arn("lambda", request.region, request.account, f"event-source-mapping:{labels['UUID']}")
        return one(action, mapping, context=context)
    if "Resource" in labels:
        return one(action, labels["Resource"])
    if "LayerName" in labels:
        return one(action, _layer_arn(request, labels["LayerName"], labels.get("VersionNumber")))
    return one(action)
