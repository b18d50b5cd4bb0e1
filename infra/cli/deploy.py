"""`wildrydes deploy`: apply infra/template.yaml to the local endpoint (default) or to AWS (--aws)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from infra.deploy import DeployError
from infra.deploy.template import parse_parameter_overrides
from localaws.settings import DEFAULT_PORT, LocalSettings, default_data_dir


def add_deploy_command(subparsers: argparse._SubParsersAction) -> None:
    deploy = subparsers.add_parser(
        "deploy",
        help="deploy the infrastructure (local endpoint by default, --aws for AWS)",
        description=(
            "Deploy infra/template.yaml. By default to the running local endpoint (`wildrydes local up`): "
            "each resource is created or updated to match the template, printing created / updated "
            "(which properties) / unchanged; deploying twice changes nothing and an interrupted deploy "
            "is completed by the next one. Outputs go to <data dir>/deploy/outputs.json. "
            "With --aws: package the Lambda code, upload it to the artifact bucket and create or update "
            "the CloudFormation stack through a change set; with --with-dagster also the stack <stack>-dagster "
            "(infra/dagster.yaml: Dagster on ECS Fargate with RDS PostgreSQL, docs/dagster-on-aws.md), its "
            "parameters filled from the main stack's outputs."
        ),
    )
    deploy.add_argument("--aws", action="store_true",
                        help="deploy to the AWS account of the current credentials instead of the local endpoint")
    deploy.add_argument("--dry-run", action="store_true",
                        help="change nothing: locally, show what would change; with --aws, print the exact "
                             "template, the parameters and the Lambda package (files, sizes, sha256) without "
                             "calling AWS")
    deploy.add_argument("--output-dir", type=Path, default=None, metavar="DIR",
                        help="--aws --dry-run only: also write the template, parameters.json, the Lambda zip and "
                             "a manifest of its files to DIR")
    deploy.add_argument("--no-execute", action="store_true",
                        help="--aws only: create and print the change set, but leave it for review instead of "
                             "executing it")
    deploy.add_argument("--with-dagster", action="store_true",
                        help="--aws only: also deploy infra/dagster.yaml as the stack <stack>-dagster (the Dagster "
                             "webserver, daemon and runs on ECS Fargate, RDS PostgreSQL), after the main stack")
    deploy.add_argument("--image-tag", default=None, metavar="TAG",
                        help="--with-dagster only: the tag of the code location's image, pushed beforehand to the "
                             "Dagster stack's ECR repository (default: the deployed tag)")
    deploy.add_argument("--dagster-parameter", "-P", action="append", default=[], metavar="KEY=VALUE",
                        help="--with-dagster only: override a parameter of infra/dagster.yaml (repeatable), "
                             "e.g. -P RunMemory=4096")
    deploy.add_argument("--parameter", "-p", action="append", default=[], metavar="KEY=VALUE",
                        help="override a template parameter (repeatable), e.g. --parameter TumblingWindowInSeconds=5")
    deploy.add_argument("--stack-name", default="wildrydes", help="stack name (default wildrydes)")
    deploy.add_argument("--artifact-bucket", default=None,
                        help="--aws only: existing S3 bucket for the Lambda package (default "
                             "$WILDRYDES_ARTIFACT_BUCKET, else wildrydes-artifacts-<account>-<region>)")
    deploy.add_argument("--data-dir", type=Path, default=None,
                        help="local only: data directory of the local platform (default .wildrydes/ in the "
                             "checkout, or WILDRYDES_DATA_DIR)")
    deploy.add_argument("--port", type=int, default=int(os.environ.get("WILDRYDES_PORT", DEFAULT_PORT)),
                        help=f"local only: port of the local endpoint if AWS_ENDPOINT_URL is not set "
                             f"(default {DEFAULT_PORT})")
    deploy.set_defaults(func=run_deploy)


def run_deploy(args: argparse.Namespace) -> int:
    overrides = parse_parameter_overrides(args.parameter)
    if (args.image_tag or args.dagster_parameter) and not args.with_dagster:
        raise DeployError("--image-tag and --dagster-parameter only apply with --with-dagster")
    if args.with_dagster and not args.aws:
        raise DeployError("--with-dagster only applies with --aws (locally, `wildrydes local up` runs Dagster)")
    if args.aws:
        return _deploy_aws(args, overrides)
    if args.artifact_bucket:
        raise DeployError("--artifact-bucket only applies with --aws")
    if args.output_dir is not None:
        raise DeployError("--output-dir only applies with --aws --dry-run")
    if args.no_execute:
        raise DeployError("--no-execute only applies with --aws (locally, --dry-run shows what would change)")
    settings = LocalSettings(data_dir=(args.data_dir or default_data_dir()).resolve(), port=args.port)
    # The local deploy talks to whatever AWS_ENDPOINT_URL names; unset, it is this machine's endpoint.
    for key, value in settings.aws_env().items():
        os.environ.setdefault(key, value)
    from infra.deploy.local import deploy_local

    deploy_local(settings.data_dir, overrides, stack_name=args.stack_name, dry_run=args.dry_run)
    return 0


def _deploy_aws(args: argparse.Namespace, overrides: dict[str, str]) -> int:
    # AWS_ENDPOINT_URL and the per-service AWS_ENDPOINT_URL_<SERVICE> would send the deploy elsewhere
    endpoints = sorted(key for key, value in os.environ.items() if key.startswith("AWS_ENDPOINT_URL") and value)
    if endpoints:
        raise DeployError(
            f"{endpoints[0]} is set ({os.environ[endpoints[0]]}): unset it to deploy to AWS with --aws"
        )
    from infra.deploy.aws import deploy_aws, plan_aws, render_dry_run, write_dry_run
    from infra.deploy.dagster import plan_dagster, render_dagster_dry_run, write_dagster_dry_run

    bucket = args.artifact_bucket or os.environ.get("WILDRYDES_ARTIFACT_BUCKET")
    if args.no_execute and args.dry_run:
        raise DeployError("--no-execute creates a change set; --dry-run calls no AWS: use one or the other")
    dagster_overrides = parse_parameter_overrides(args.dagster_parameter)
    if args.with_dagster and not args.dry_run:  # a bad Dagster parameter fails before anything is deployed
        plan_dagster(args.stack_name, None, overrides=dagster_overrides, image_tag=args.image_tag)
    if args.dry_run:
        plan = plan_aws(overrides, artifact_bucket=bucket, stack_name=args.stack_name)
        dagster_plan = (plan_dagster(args.stack_name, None, overrides=dagster_overrides, image_tag=args.image_tag)
                        if args.with_dagster else None)
        print(render_dry_run(plan), end="")
        if dagster_plan is not None:
            print(render_dagster_dry_run(dagster_plan), end="")
        if args.output_dir is not None:
            paths = write_dry_run(plan, args.output_dir)
            paths += write_dagster_dry_run(dagster_plan, args.output_dir) if dagster_plan is not None else []
            for path in paths:
                print(f"# wrote {path}")
        return 0
    if args.output_dir is not None:
        raise DeployError("--output-dir only applies with --aws --dry-run")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        session = boto3.Session()
        if session.region_name is None:
            raise NoRegionError()
        if not bucket:
            account = session.client("sts").get_caller_identity()["Account"]
            bucket = f"wildrydes-artifacts-{account}-{session.region_name}"
        plan = plan_aws(overrides, artifact_bucket=bucket, stack_name=args.stack_name)
        outputs = deploy_aws(plan, session, execute=not args.no_execute)
        dagster_outputs = (_deploy_dagster(args, session, outputs, bucket, dagster_overrides)
                           if args.with_dagster else {})
    except NoCredentialsError:
        raise DeployError("no AWS credentials: configure them (aws configure, AWS_PROFILE) and deploy again") from None
    except NoRegionError:
        raise DeployError("no AWS region: set AWS_REGION (or a profile region) and deploy again") from None
    except ClientError as error:
        details = error.response.get("Error", {})
        raise DeployError(f"{error.operation_name} failed: {details.get('Code')}: {details.get('Message')}") from None
    except BotoCoreError as error:
        raise DeployError(" ".join(str(error).split())) from None
    if args.no_execute:
        return 0
    for key, value in sorted(outputs.items()):
        print(f"{key} = {value}")
    _write_map_config(args, outputs, session.region_name)
    if dagster_outputs:
        from infra.deploy.dagster import next_steps

        for key, value in sorted(dagster_outputs.items()):
            print(f"dagster: {key} = {value}")
        for line in next_steps(dagster_outputs):
            print(line)
    return 0


def _deploy_dagster(args: argparse.Namespace, session: Any, main_outputs: dict[str, str], bucket: str,
                    overrides: dict[str, str]) -> dict[str, str]:
    """The Dagster stack after the main one; with --no-execute, planned from the main stack as deployed."""
    from infra.deploy.aws import existing_stack, stack_outputs
    from infra.deploy.dagster import deploy_dagster

    if not main_outputs:  # --no-execute: the main stack's change set awaits review
        main_outputs = stack_outputs(existing_stack(session.client("cloudformation"), args.stack_name))
    if not main_outputs:
        print("Dagster stack not planned: the main stack has no outputs yet (execute its change set, then deploy "
              "again with --with-dagster)")
        return {}
    return deploy_dagster(args.stack_name, main_outputs, session, artifact_bucket=bucket, overrides=overrides,
                          image_tag=args.image_tag, execute=not args.no_execute)


def _write_map_config(args: argparse.Namespace, outputs: dict[str, str], region: str) -> None:
    """The live map's config for this AWS stack (pool id, region, streams), served by `wildrydes map --aws`."""
    from infra.cli.map import aws_config_path
    from streaming.map.config import MapConfigError, from_outputs, write_config

    data_dir = (args.data_dir or default_data_dir()).resolve()
    try:
        path = write_config(aws_config_path(data_dir), from_outputs(outputs, endpoint=None, region=region))
    except MapConfigError as error:
        print(f"map config not written: {error}")
        return
    print(f"map config: {path} (serve it with `wildrydes map --aws`)")
