"""The AWS deployment's dagster.yaml, rendered from the Dagster stack's outputs: it parses, every value comes from
the outputs or names a variable the task definitions set, Dagster's own schema accepts it, and EcsRunLauncher
starts from it (against moto's in-process ECS: no network, no Postgres)."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from dagster._config import process_config, resolve_to_config_type
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import ConfigurableClassData

from infra.deploy import DeployError
from infra.deploy.dagster import DAGSTER_TEMPLATE_PATH
from infra.deploy.dagster_instance import (
    INSTANCE_OUTPUTS,
    PARAMETER_LIMIT,
    PG_PASSWORD_ENV,
    PG_USERNAME_ENV,
    RUN_TASK_DEFINITION_ENV,
    render_instance_yaml,
)
from infra.deploy.template import load_template
from orchestration.defs.platform.run_tags import DBT_RUNS_TAG

OUTPUTS = {
    "DatabaseEndpointAddress": "wildrydes-dagster-postgres.abc123.us-east-1.rds.amazonaws.com",
    "DatabasePort": "5432",
    "DatabaseName": "dagster",
    "ClusterName": "wildrydes-dagster",
    "RunContainerName": "run",
    "PrivateSubnetIds": "subnet-0aaa,subnet-0bbb",
    "TaskSecurityGroupId": "sg-0ccc",
    "DagsterBucketName": "wildrydes-dagster-dagsterbucket-1x2y3z",
    "ComputeLogPrefix": "compute-logs",
    "RepositoryUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/wildrydes-dagster",  # not used: ignored
}
ENVIRONMENT = {PG_USERNAME_ENV: "dagster", PG_PASSWORD_ENV: "from-secrets-manager",
               RUN_TASK_DEFINITION_ENV: "arn:aws:ecs:us-east-1:123456789012:task-definition/wildrydes-dagster-run:7"}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    return ENVIRONMENT


def test_it_parses_and_its_values_are_the_outputs() -> None:
    config = yaml.safe_load(render_instance_yaml(OUTPUTS))
    db = config["storage"]["postgres"]["postgres_db"]
    assert (db["hostname"], db["port"], db["db_name"]) == (OUTPUTS["DatabaseEndpointAddress"], 5432, "dagster")
    assert db["username"] == {"env": PG_USERNAME_ENV} and db["password"] == {"env": PG_PASSWORD_ENV}
    assert db["params"] == {"sslmode": "require"}
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_aws.ecs", "EcsRunLauncher")
    settings = launcher["config"]
    assert settings["task_definition"] == {"env": RUN_TASK_DEFINITION_ENV}
    assert settings["container_name"] == "run"
    assert settings["use_current_ecs_task_config"] is False and settings["secrets_tag"] is None
    kwargs = settings["run_task_kwargs"]
    assert kwargs["cluster"] == "wildrydes-dagster" and kwargs["launchType"] == "FARGATE"
    assert kwargs["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": ["subnet-0aaa", "subnet-0bbb"], "securityGroups": ["sg-0ccc"], "assignPublicIp": "DISABLED"}}
    logs = config["compute_logs"]
    assert logs["class"] == "S3ComputeLogManager"
    assert (logs["config"]["bucket"], logs["config"]["prefix"]) == (OUTPUTS["DagsterBucketName"], "compute-logs")
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_retries"] == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}
    assert config["telemetry"] == {"enabled": False}


def test_other_outputs_give_another_configuration_and_missing_ones_are_named() -> None:
    other = {**OUTPUTS, "ClusterName": "staging-dagster", "DatabasePort": "6543"}
    config = yaml.safe_load(render_instance_yaml(other))
    assert config["run_launcher"]["config"]["run_task_kwargs"]["cluster"] == "staging-dagster"
    assert config["storage"]["postgres"]["postgres_db"]["port"] == 6543
    incomplete = {k: v for k, v in OUTPUTS.items() if k not in ("TaskSecurityGroupId", "DagsterBucketName")}
    with pytest.raises(DeployError, match="no output TaskSecurityGroupId, DagsterBucketName"):
        render_instance_yaml(incomplete)
    with pytest.raises(DeployError, match="4096-byte limit"):
        render_instance_yaml({**OUTPUTS, "PrivateSubnetIds": ",".join(f"subnet-{i:017x}" for i in range(200))})


def test_it_fits_a_cloudformation_parameter_and_holds_no_secret() -> None:
    text = render_instance_yaml(OUTPUTS)
    assert len(text.encode()) <= PARAMETER_LIMIT
    assert load_template(DAGSTER_TEMPLATE_PATH).parameters["InstanceConfig"]["MaxLength"] == PARAMETER_LIMIT
    assert ENVIRONMENT[PG_PASSWORD_ENV] not in text and "password" not in text.replace("password:", "")


def test_the_outputs_and_variables_it_uses_are_the_stacks() -> None:
    template = load_template(DAGSTER_TEMPLATE_PATH)
    assert set(INSTANCE_OUTPUTS) <= set(template.outputs)
    for name in ("RunContainerName", "ComputeLogPrefix", "DatabaseName"):  # literal outputs: the template's values
        assert isinstance(template.outputs[name]["Value"], str)
    definitions = {lid: r["Properties"]["ContainerDefinitions"][0] for lid, r in template.resources.items()
                   if r["Type"] == "AWS::ECS::TaskDefinition"}
    for lid, definition in definitions.items():
        secrets = {s["Name"] for s in definition["Secrets"]}
        assert {PG_USERNAME_ENV, PG_PASSWORD_ENV} <= secrets, lid
    for lid in ("WebserverTaskDefinition", "DaemonTaskDefinition"):  # the processes that construct the launcher
        assert RUN_TASK_DEFINITION_ENV in {e.get("Name") for e in definitions[lid]["Environment"]}


def test_dagster_accepts_it_as_an_instance_configuration(tmp_path: Path, environment: dict[str, str]) -> None:
    (tmp_path / "dagster.yaml").write_text(render_instance_yaml(OUTPUTS))
    config, custom_class = dagster_instance_config(str(tmp_path))
    assert custom_class is None
    assert {"storage", "run_queue", "run_launcher", "compute_logs", "run_monitoring", "run_retries"} <= set(config)
    assert {"key": DBT_RUNS_TAG, "limit": 1} in config["run_queue"]["tag_concurrency_limits"]  # dbt one at a time
    # each configurable class's own schema, with the environment variables resolved as the containers would
    for key in ("run_launcher", "compute_logs"):
        klass = getattr(import_module(config[key]["module"]), config[key]["class"])
        result = process_config(resolve_to_config_type(klass.config_type()), config[key]["config"])
        assert result.success, (key, result.errors)
    from dagster_postgres.utils import pg_config

    result = process_config(resolve_to_config_type(pg_config()), config["storage"]["postgres"])
    assert result.success, result.errors
    assert result.value["postgres_db"]["password"] == environment[PG_PASSWORD_ENV]


def test_a_broken_configuration_is_refused_by_the_same_check(tmp_path: Path) -> None:
    config = yaml.safe_load(render_instance_yaml(OUTPUTS))
    config["run_monitoring"]["enabled"] = "sometimes"
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(Exception, match="run_monitoring"):
        dagster_instance_config(str(tmp_path))


@pytest.fixture
def ecs(in_process_aws: None) -> Any:
    return boto3.client("ecs", region_name="us-east-1")


def launcher_from(text: str) -> Any:
    from dagster_aws.ecs import EcsRunLauncher

    launcher = yaml.safe_load(text)["run_launcher"]
    data = ConfigurableClassData(launcher["module"], launcher["class"], yaml.safe_dump(launcher["config"]))
    return data.rehydrate(as_type=EcsRunLauncher)


def test_ecs_run_launcher_starts_from_it(ecs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    registered = ecs.register_task_definition(
        family="wildrydes-dagster-run", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="1024",
        memory="2048", containerDefinitions=[{"name": "run", "image": "repo:tag"}])["taskDefinition"]
    monkeypatch.setenv(RUN_TASK_DEFINITION_ENV, registered["taskDefinitionArn"])
    launcher = launcher_from(render_instance_yaml(OUTPUTS))
    assert launcher.task_definition == registered["taskDefinitionArn"]
    assert launcher.container_name == "run" and launcher.secrets_tags == []
    assert launcher.use_current_ecs_task_config is False
    assert launcher.run_task_kwargs["cluster"] == "wildrydes-dagster"

    # the container name comes from the outputs: one the task definition lacks is refused when it starts
    with pytest.raises(Exception, match="Cannot override container 'worker'"):
        launcher_from(render_instance_yaml({**OUTPUTS, "RunContainerName": "worker"}))
    monkeypatch.delenv(RUN_TASK_DEFINITION_ENV)
    with pytest.raises(Exception, match=RUN_TASK_DEFINITION_ENV):
        launcher_from(render_instance_yaml(OUTPUTS))
