"""How dbt nodes become Dagster assets: the raw source is ``raw_unicorn_status``; marts get freshness
policies by refresh cadence (their dbt tag)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.defs.platform import keys

FRESHNESS = {
    "hourly": dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=3), warn_window=timedelta(hours=2)),
    "daily": dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=3), warn_window=timedelta(hours=2)),
    "current": dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=3), warn_window=timedelta(hours=2)),
}


class WildrydesTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            if props["source_name"] == "wildrydes" and props["name"] == "unicorn_status":
                return spec.replace_attributes(key=keys.RAW)
            return spec
        tags = set(props.get("tags") or [])
        group = "staging" if props["fqn"][1:2] == ["staging"] else "marts"
        freshness = next((FRESHNESS[t] for t in ("hourly", "daily", "current") if t in tags), None)
        if group == "staging":
            freshness = None  # a view is as fresh as its source
        cadence = next((t for t in ("hourly", "daily", "current") if t in tags), "current")
        return spec.replace_attributes(
            group_name=group,
            freshness_policy=freshness,
            kinds={"dbt", "athena", "parquet"} if group == "marts" else {"dbt", "athena"},
            tags={**spec.tags, "dbt_cadence": cadence},
        )
