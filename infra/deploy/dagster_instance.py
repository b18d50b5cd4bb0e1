"""The Dagster instance configuration (``dagster.yaml``) of the AWS deployment, rendered from the Dagster
stack's outputs (infra/dagster.yaml), never copied by hand.

``wildrydes deploy --aws --with-dagster`` passes it to the stack as the ``InstanceConfig`` parameter; the task
definitions hand it to every container as ``DAGSTER_INSTANCE_CONFIG`` and the image's entrypoint
(infra/docker/dagster-entrypoint.sh) writes it to ``$DAGSTER_HOME/dagster.yaml``. It holds no secret: the
database user and password are environment variables ECS injects from Secrets Manager.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from infra.deploy import DeployError
from orchestration.defs.platform.run_tags import dbt_concurrency_limit

# The stack outputs the configuration is made of.
INSTANCE_OUTPUTS = (
    "DatabaseEndpointAddress",
    "DatabasePort",
    "DatabaseName",
    "ClusterName",
    "RunContainerName",
    "PrivateSubnetIds",
    "TaskSecurityGroupId",
    "DagsterBucketName",
    "ComputeLogPrefix",
)
# Environment variables the task definitions set (the secret's keys, and the run task definition's ARN).
PG_USERNAME_ENV = "DAGSTER_PG_USER"
PG_PASSWORD_ENV = "DAGSTER_PG_PASSWORD"
RUN_TASK_DEFINITION_ENV = "DAGSTER_RUN_TASK_DEFINITION"
MAX_CONCURRENT_RUNS = 4  # the local instance runs 2; dbt and the checks wait on Athena, not on the CPU
PARAMETER_LIMIT = 4096  # bytes: a CloudFormation parameter value's maximum

HEADER = """\
# Dagster instance of the AWS deployment: rendered by `wildrydes deploy --aws --with-dagster` from the
# Dagster stack's outputs (infra/deploy/dagster_instance.py); written to $DAGSTER_HOME/dagster.yaml by the
# image's entrypoint. Do not edit in place: deploy again.
"""


def instance_config(outputs: Mapping[str, str], *, max_concurrent_runs: int = MAX_CONCURRENT_RUNS) -> dict[str, Any]:
    """The configuration as data: every value comes from ``outputs`` or names an environment variable."""
    missing = [name for name in INSTANCE_OUTPUTS if not outputs.get(name)]
    if missing:
        raise DeployError(f"the Dagster stack has no output {', '.join(missing)}: deploy it (--with-dagster) first")
    subnets = [subnet.strip() for subnet in outputs["PrivateSubnetIds"].split(",") if subnet.strip()]
    port = outputs["DatabasePort"]
    return {
        "storage": {"postgres": {"postgres_db": {
            "hostname": outputs["DatabaseEndpointAddress"],
            "port": int(port) if port.isdigit() else port,
            "db_name": outputs["DatabaseName"],
            "username": {"env": PG_USERNAME_ENV},
            "password": {"env": PG_PASSWORD_ENV},
            "params": {"sslmode": "require"},
        }}},
        "run_queue": {"max_concurrent_runs": max_concurrent_runs, "tag_concurrency_limits": [dbt_concurrency_limit()]},
        "run_launcher": {
            "module": "dagster_aws.ecs",
            "class": "EcsRunLauncher",
            "config": {
                # The ARN with its revision, from the environment: a new revision (a new image) restarts the
                # webserver and the daemon with it, so no run is launched on a deregistered revision.
                "task_definition": {"env": RUN_TASK_DEFINITION_ENV},
                "container_name": outputs["RunContainerName"],
                "secrets_tag": None,  # no ListSecrets: the database secret is in the task definition
                "use_current_ecs_task_config": False,
                "run_task_kwargs": {
                    "cluster": outputs["ClusterName"],
                    "launchType": "FARGATE",
                    "platformVersion": "LATEST",
                    "networkConfiguration": {"awsvpcConfiguration": {
                        "subnets": subnets,
                        "securityGroups": [outputs["TaskSecurityGroupId"]],
                        "assignPublicIp": "DISABLED",
                    }},
                },
            },
        },
        "compute_logs": {
            "module": "dagster_aws.s3.compute_log_manager",
            "class": "S3ComputeLogManager",
            "config": {
                "bucket": outputs["DagsterBucketName"],
                "prefix": outputs["ComputeLogPrefix"],
                "skip_empty_files": True,
                "upload_interval": 30,
            },
        },
        # A run whose task stopped (killed, out of memory, a lost host) is marked failed and run again; a run
        # that failed on its own (a red blocking check) is not. A Fargate task takes a minute or two to start.
        "run_monitoring": {
            "enabled": True,
            "poll_interval_seconds": 30,
            "start_timeout_seconds": 600,
            "max_resume_run_attempts": 0,
        },
        "run_retries": {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False},
        "telemetry": {"enabled": False},
    }


def render_instance_yaml(outputs: Mapping[str, str], *, max_concurrent_runs: int = MAX_CONCURRENT_RUNS) -> str:
    """``dagster.yaml`` for the AWS deployment, from the Dagster stack's outputs."""
    text = HEADER + yaml.safe_dump(instance_config(outputs, max_concurrent_runs=max_concurrent_runs),
                                   sort_keys=False, default_flow_style=False, width=120)
    if len(text.encode()) > PARAMETER_LIMIT:
        raise DeployError(f"the Dagster instance configuration is {len(text.encode())} bytes, over the "
                          f"{PARAMETER_LIMIT}-byte limit of a CloudFormation parameter")
    return text
