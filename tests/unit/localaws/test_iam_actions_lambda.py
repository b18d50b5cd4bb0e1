"""IAM authorizations of Lambda requests (localaws.iam.actions): the REST routes, checked against the SDK model,
and function, layer and event source mapping ARNs."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from localaws.iam.actions import LAMBDA_ROUTES, Access, UnmappedRequest, accesses, operation_of
from tests.support.iam_requests import ACCOUNT, REGION, one, rest_request, service_model


def function(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@pytest.mark.parametrize(("method", "path", "query", "action", "resource"), [
    ("POST", "/2015-03-31/functions/f/invocations", "", "lambda:InvokeFunction", function("f")),
    ("POST", "/2015-03-31/functions/f/invocations", "Qualifier=live", "lambda:InvokeFunction", function("f:live")),
    ("POST", "/2015-03-31/functions/f%3A3/invocations", "", "lambda:InvokeFunction", function("f:3")),
    ("POST", f"/2015-03-31/functions/{ACCOUNT}%3Afunction%3Af/invocations", "", "lambda:InvokeFunction",
     function("f")),
    ("POST", "/2015-03-31/functions/" + quote("arn:aws:lambda:us-east-2:111122223333:function:g:prod", safe="")
     + "/invocations", "", "lambda:InvokeFunction", "arn:aws:lambda:us-east-2:111122223333:function:g:prod"),
    ("POST", "/2015-03-31/functions/arn:aws:lambda:us-east-2:111122223333:function:g/invocations", "Qualifier=1",
     "lambda:InvokeFunction", "arn:aws:lambda:us-east-2:111122223333:function:g:1"),
    ("POST", "/2014-11-13/functions/f/invoke-async/", "", "lambda:InvokeAsync", function("f")),
    ("GET", "/2015-03-31/functions/f", "", "lambda:GetFunction", function("f")),
    ("GET", "/2015-03-31/functions/f/configuration", "", "lambda:GetFunctionConfiguration", function("f")),
    ("PUT", "/2015-03-31/functions/f/configuration", "", "lambda:UpdateFunctionConfiguration", function("f")),
    ("PUT", "/2015-03-31/functions/f/code", "", "lambda:UpdateFunctionCode", function("f")),
    ("DELETE", "/2015-03-31/functions/f", "", "lambda:DeleteFunction", function("f")),
    ("GET", "/2015-03-31/functions/", "", "lambda:ListFunctions", "*"),
    ("GET", "/2015-03-31/event-source-mappings/", "FunctionName=f", "lambda:ListEventSourceMappings", "*"),
    ("GET", "/2015-03-31/event-source-mappings/u-1", "", "lambda:GetEventSourceMapping",
     f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:u-1"),
    ("DELETE", "/2015-03-31/event-source-mappings/u-1", "", "lambda:DeleteEventSourceMapping",
     f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:u-1"),
    ("POST", "/2015-03-31/functions/f/policy", "", "lambda:AddPermission", function("f")),
    ("DELETE", "/2015-03-31/functions/f/policy/sid-1", "", "lambda:RemovePermission", function("f")),
    ("GET", "/2015-03-31/functions/f/policy", "", "lambda:GetPolicy", function("f")),
    ("POST", "/2015-03-31/functions/f/versions", "", "lambda:PublishVersion", function("f")),
    ("GET", "/2015-03-31/functions/f/versions", "", "lambda:ListVersionsByFunction", function("f")),
    ("POST", "/2015-03-31/functions/f/aliases", "", "lambda:CreateAlias", function("f")),
    ("GET", "/2015-03-31/functions/f/aliases/live", "", "lambda:GetAlias", function("f")),
    ("GET", "/2015-03-31/functions/f/aliases", "", "lambda:ListAliases", function("f")),
    ("PUT", "/2015-03-31/functions/f/aliases/live", "", "lambda:UpdateAlias", function("f")),
    ("DELETE", "/2015-03-31/functions/f/aliases/live", "", "lambda:DeleteAlias", function("f")),
    ("PUT", "/2017-10-31/functions/f/concurrency", "", "lambda:PutFunctionConcurrency", function("f")),
    ("DELETE", "/2017-10-31/functions/f/concurrency", "", "lambda:DeleteFunctionConcurrency", function("f")),
    ("GET", "/2019-09-30/functions/f/concurrency", "", "lambda:GetFunctionConcurrency", function("f")),
    ("GET", "/2019-09-30/functions/f/provisioned-concurrency", "List=ALL", "lambda:ListProvisionedConcurrencyConfigs",
     function("f")),
    ("GET", "/2019-09-30/functions/f/provisioned-concurrency", "Qualifier=1", "lambda:GetProvisionedConcurrencyConfig",
     function("f:1")),
    ("GET", "/2017-03-31/tags/" + quote(function("f"), safe=""), "", "lambda:ListTags", function("f")),
    ("POST", "/2017-03-31/tags/" + quote(function("f"), safe=""), "", "lambda:TagResource", function("f")),
    ("DELETE", "/2017-03-31/tags/" + quote(function("f"), safe=""), "tagKeys=a", "lambda:UntagResource",
     function("f")),
    ("GET", "/2016-08-19/account-settings/", "", "lambda:GetAccountSettings", "*"),
    ("GET", "/2018-10-31/layers/deps/versions/3", "", "lambda:GetLayerVersion",
     f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:deps:3"),
])
def test_lambda_routes(method: str, path: str, query: str, action: str, resource: str) -> None:
    assert one(rest_request("lambda", method, path, query)) == Access(action, (resource,))


def test_lambda_bodies_and_unknown_paths() -> None:
    create = rest_request("lambda", "POST", "/2015-03-31/functions", body=json.dumps({"FunctionName": "new"}).encode())
    assert one(create) == Access("lambda:CreateFunction", (function("new"),))
    mapping = rest_request("lambda", "POST", "/2015-03-31/event-source-mappings/",
                           body=json.dumps({"FunctionName": "f", "EventSourceArn": "x"}).encode())
    assert one(mapping) == Access("lambda:CreateEventSourceMapping", ("*",), {"lambda:FunctionArn": function("f")})
    for request in (rest_request("lambda", "GET", "/2015-03-31/nothing"),
                    rest_request("lambda", "PATCH", "/2015-03-31/functions/f"),
                    rest_request("lambda", "POST", "/2015-03-31/functions", body=b"{}")):
        with pytest.raises(UnmappedRequest):
            accesses(request)


def test_lambda_routes_match_the_sdk_model() -> None:
    model = service_model("lambda")
    labels = {"FunctionName": quote(function("f") + ":1", safe=""), "UUID": "u", "Name": "a", "StatementId": "s",
              "Resource": quote(function("f"), safe=""), "LayerName": "l", "VersionNumber": "2"}
    for route in LAMBDA_ROUTES:
        assert route.operation in model.operation_names, route.operation
        http = model.operation_model(route.operation).http
        assert (route.method, route.request_uri) == (http["method"], http["requestUri"]), route.operation
        path, _, literal = http["requestUri"].partition("?")
        for label, value in labels.items():
            path = path.replace("{" + label + "}", value)
        body = json.dumps({"FunctionName": "f"}).encode()
        request = rest_request("lambda", route.method, path, literal, body=body)
        assert operation_of(request) == route.operation, path
        assert all(a.action.startswith("lambda:") for a in accesses(request))
