"""The dbt CLI resource, bound once for the code location to the project of ``project.py``."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.project import dbt_executable, project


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable())})
