"""Lambda's REST routes, in the SDK model's requestUri syntax (a ``?name=value`` suffix must be in the query), and
the route of a request: its operation, IAM action and URI labels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

from localaws.iam.actions.model import RequestInfo, UnmappedRequest

_LAMBDA_ROUTE_SPECS: tuple[tuple[str, str, str, str | None], ...] = (
    # (method, requestUri, operation, IAM action when it differs from the operation)
    ("POST", "/2015-03-31/functions/{FunctionName}/invocations", "Invoke", "InvokeFunction"),
    ("POST", "/2014-11-13/functions/{FunctionName}/invoke-async", "InvokeAsync", None),
    ("POST", "/2021-11-15/functions/{FunctionName}/response-streaming-invocations", "InvokeWithResponseStream",
     "InvokeFunction"),
    ("GET", "/2015-03-31/functions", "ListFunctions", None),
    ("POST", "/2015-03-31/functions", "CreateFunction", None),
    ("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction", None),
    ("DELETE", "/2015-03-31/functions/{FunctionName}", "DeleteFunction", None),
    ("GET", "/2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration", None),
    ("PUT", "/2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration", None),
    ("PUT", "/2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode", None),
    ("POST", "/2015-03-31/functions/{FunctionName}/policy", "AddPermission", None),
    ("GET", "/2015-03-31/functions/{FunctionName}/policy", "GetPolicy", None),
    ("DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}", "RemovePermission", None),
    ("POST", "/2015-03-31/functions/{FunctionName}/versions", "PublishVersion", None),
    ("GET", "/2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction", None),
    ("POST", "/2015-03-31/functions/{FunctionName}/aliases", "CreateAlias", None),
    ("GET", "/2015-03-31/functions/{FunctionName}/aliases", "ListAliases", None),
    ("GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "GetAlias", None),
    ("PUT", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "UpdateAlias", None),
    ("DELETE", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "DeleteAlias", None),
    ("PUT", "/2017-10-31/functions/{FunctionName}/concurrency", "PutFunctionConcurrency", None),
    ("DELETE", "/2017-10-31/functions/{FunctionName}/concurrency", "DeleteFunctionConcurrency", None),
    ("GET", "/2019-09-30/functions/{FunctionName}/concurrency", "GetFunctionConcurrency", None),
    ("GET", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL",
     "ListProvisionedConcurrencyConfigs", None),
    ("GET", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", "GetProvisionedConcurrencyConfig", None),
    ("PUT", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", "PutProvisionedConcurrencyConfig", None),
    ("DELETE", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", "DeleteProvisionedConcurrencyConfig",
     None),
    ("GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config/list", "ListFunctionEventInvokeConfigs", None),
    ("GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config", "GetFunctionEventInvokeConfig", None),
    ("PUT", "/2019-09-25/functions/{FunctionName}/event-invoke-config", "PutFunctionEventInvokeConfig", None),
    ("POST", "/2019-09-25/functions/{FunctionName}/event-invoke-config", "UpdateFunctionEventInvokeConfig", None),
    ("DELETE", "/2019-09-25/functions/{FunctionName}/event-invoke-config", "DeleteFunctionEventInvokeConfig", None),
    ("GET", "/2021-10-31/functions/{FunctionName}/url", "GetFunctionUrlConfig", None),
    ("POST", "/2021-10-31/functions/{FunctionName}/url", "CreateFunctionUrlConfig", None),
    ("PUT", "/2021-10-31/functions/{FunctionName}/url", "UpdateFunctionUrlConfig", None),
    ("DELETE", "/2021-10-31/functions/{FunctionName}/url", "DeleteFunctionUrlConfig", None),
    ("GET", "/2021-10-31/functions/{FunctionName}/urls", "ListFunctionUrlConfigs", None),
    ("GET", "/2020-06-30/functions/{FunctionName}/code-signing-config", "GetFunctionCodeSigningConfig", None),
    ("PUT", "/2020-06-30/functions/{FunctionName}/code-signing-config", "PutFunctionCodeSigningConfig", None),
    ("DELETE", "/2020-06-30/functions/{FunctionName}/code-signing-config", "DeleteFunctionCodeSigningConfig", None),
    ("GET", "/2024-08-31/functions/{FunctionName}/recursion-config", "GetFunctionRecursionConfig", None),
    ("PUT", "/2024-08-31/functions/{FunctionName}/recursion-config", "PutFunctionRecursionConfig", None),
    ("GET", "/2021-07-20/functions/{FunctionName}/runtime-management-config", "GetRuntimeManagementConfig", None),
    ("PUT", "/2021-07-20/functions/{FunctionName}/runtime-management-config", "PutRuntimeManagementConfig", None),
    ("GET", "/2015-03-31/event-source-mappings", "ListEventSourceMappings", None),
    ("POST", "/2015-03-31/event-source-mappings", "CreateEventSourceMapping", None),
    ("GET", "/2015-03-31/event-source-mappings/{UUID}", "GetEventSourceMapping", None),
    ("PUT", "/2015-03-31/event-source-mappings/{UUID}", "UpdateEventSourceMapping", None),
    ("DELETE", "/2015-03-31/event-source-mappings/{UUID}", "DeleteEventSourceMapping", None),
    ("GET", "/2017-03-31/tags/{Resource}", "ListTags", None),
    ("POST", "/2017-03-31/tags/{Resource}", "TagResource", None),
    ("DELETE", "/2017-03-31/tags/{Resource}", "UntagResource", None),
    ("GET", "/2016-08-19/account-settings", "GetAccountSettings", None),
    ("GET", "/2018-10-31/layers?find=LayerVersion", "GetLayerVersionByArn", "GetLayerVersion"),
    ("GET", "/2018-10-31/layers", "ListLayers", None),
    ("GET", "/2018-10-31/layers/{LayerName}/versions", "ListLayerVersions", None),
    ("POST", "/2018-10-31/layers/{LayerName}/versions", "PublishLayerVersion", None),
    ("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "GetLayerVersion", None),
    ("DELETE", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "DeleteLayerVersion", None),
    ("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "GetLayerVersionPolicy", None),
    ("POST", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "AddLayerVersionPermission", None),
    ("DELETE", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}",
     "RemoveLayerVersionPermission", None),
)


@dataclass(frozen=True)
class LambdaRoute:
    """One route of ``LAMBDA_ROUTES``."""

    method: str
    request_uri: str
    pattern: re.Pattern[str]
    query: tuple[tuple[str, str], ...]
    operation: str
    action: str


@dataclass(frozen=True)
class LambdaMatch:
    """The route a request matched."""

    operation: str
    action: str
    labels: Mapping[str, str]  # decoded URI labels


def _lambda_compile(method: str, request_uri: str, operation: str, action: str | None) -> LambdaRoute:
    path, _, literal_query = request_uri.partition("?")
    pattern = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(path))
    query = tuple((k, v[0]) for k, v in parse_qs(literal_query, keep_blank_values=True).items())
    return LambdaRoute(method, request_uri, re.compile(f"^{pattern}/?$"), query, operation, action or operation)


LAMBDA_ROUTES: tuple[LambdaRoute, ...] = tuple(_lambda_compile(*spec) for spec in _LAMBDA_ROUTE_SPECS)


def lambda_route(request: RequestInfo) -> LambdaMatch:
    """The route of a Lambda REST request; UnmappedRequest when none matches."""
    method = request.method.upper()
    query = parse_qs(request.query, keep_blank_values=True)
    for route in LAMBDA_ROUTES:
        if route.method != method:
            continue
        match = route.pattern.match(request.path)
        if match and all(query.get(k) == [v] for k, v in route.query):
            labels = {k: unquote(v) for k, v in match.groupdict().items()}
            return LambdaMatch(route.operation, route.action, labels)
    raise UnmappedRequest(f"no known Lambda operation is {method} {request.path}")
