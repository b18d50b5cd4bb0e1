"""AWS::Lambda::Function and AWS::Lambda::EventSourceMapping on moto.

moto stores functions and mappings without running them; the local runtime executes the handlers
named in the stored configuration. The code is the same zip the AWS deploy uploads, sent inline
(the template's S3 bucket/key parameters only matter on AWS).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, missing, pick

CONFIGURATION = ("Description", "Runtime", "Handler", "Role", "MemorySize", "Timeout", "Environment",
                 "LoggingConfig", "EphemeralStorage", "TracingConfig")
MAPPING_SETTINGS = (
    "BatchSize", "MaximumBatchingWindowInSeconds", "TumblingWindowInSeconds", "ParallelizationFactor",
    "BisectBatchOnFunctionError", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
    "FunctionResponseTypes", "DestinationConfig", "Enabled", "FilterCriteria",
)


def with_text_environment(props: dict[str, Any]) -> dict[str, Any]:
    """The properties with every environment variable as text, as CloudFormation passes them: a ``Ref`` to a
    ``Number`` parameter is a string wherever it is used, and so is a YAML number or boolean literal."""
    variables = (props.get("Environment") or {}).get("Variables")
    if not variables:
        return dict(props)
    text = {key: _text(value) for key, value in variables.items()}
    return {**props, "Environment": {**props["Environment"], "Variables": text}}


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


class LambdaFunction(ResourceHandler):
    type_name = "AWS::Lambda::Function"
    applies = frozenset({"FunctionName", "Code", *CONFIGURATION, "Architectures"})
    replace_on = frozenset({"PackageType"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("FunctionName") or f"{ctx.stack_name}-{logical_id}"[:64]

    def desired(self, props: dict[str, Any], ctx: LocalContext) -> dict[str, Any]:
        wanted = with_text_environment(props)
        wanted["Code"] = {"CodeSha256": ctx.package.code_sha256_b64}
        wanted.setdefault("Architectures", ["x86_64"])
        return wanted

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        try:
            config = ctx.client("lambda").get_function(FunctionName=name)["Configuration"]
        except ClientError as error:
            if missing(error, "ResourceNotFoundException"):
                return None
            raise
        state = pick(config, "FunctionName", *CONFIGURATION, "Architectures")
        state["Code"] = {"CodeSha256": config.get("CodeSha256")}
        return Deployed(ref=name, attrs={"Arn": config["FunctionArn"]}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        request = pick(with_text_environment(props), *CONFIGURATION, "Architectures")
        ctx.client("lambda").create_function(
            FunctionName=name, Code={"ZipFile": ctx.package.zip_bytes}, Publish=False, **request)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        client = ctx.client("lambda")
        if "Code" in changed or "Architectures" in changed:
            client.update_function_code(FunctionName=name, ZipFile=ctx.package.zip_bytes,
                                        Architectures=props.get("Architectures", ["x86_64"]))
        if set(changed) & set(CONFIGURATION):
            request = pick(with_text_environment(props), *CONFIGURATION)
            if "Environment" not in request:
                request["Environment"] = {"Variables": {}}
            client.update_function_configuration(FunctionName=name, **request)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("lambda").delete_function(FunctionName=name)


class EventSourceMapping(ResourceHandler):
    type_name = "AWS::Lambda::EventSourceMapping"
    applies = frozenset({"FunctionName", "EventSourceArn", "StartingPosition", *MAPPING_SETTINGS})
    # Lambda cannot change where an existing mapping starts reading.
    replace_on = frozenset({"StartingPosition", "StartingPositionTimestamp"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return f"{props['FunctionName']}|{props['EventSourceArn']}"

    def desired(self, props: dict[str, Any], ctx: LocalContext) -> dict[str, Any]:
        wanted = dict(props)
        wanted.setdefault("Enabled", True)
        return wanted

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        function, source = name.split("|", 1)
        mappings = ctx.client("lambda").list_event_source_mappings(
            FunctionName=function, EventSourceArn=source)["EventSourceMappings"]
        if not mappings:
            return None
        mapping = mappings[0]
        state = pick(mapping, "EventSourceArn", "StartingPosition", *MAPPING_SETTINGS)
        state["FunctionName"] = function
        state["Enabled"] = mapping.get("State", "Enabled") in ("Enabled", "Enabling", "Creating", "Updating")
        uuid = mapping["UUID"]
        return Deployed(ref=uuid, attrs={"Id": uuid, "EventSourceMappingArn": mapping.get(
            "EventSourceMappingArn", ctx.arn("lambda", f"event-source-mapping:{uuid}"))}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        request = pick(props, "FunctionName", "EventSourceArn", "StartingPosition", "StartingPositionTimestamp",
                       *MAPPING_SETTINGS)
        ctx.client("lambda").create_event_source_mapping(**request)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        request = {key: props[key] for key in changed if key in MAPPING_SETTINGS and key in props}
        if request:
            ctx.client("lambda").update_event_source_mapping(UUID=current.ref, **request)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("lambda").delete_event_source_mapping(UUID=current.ref)
