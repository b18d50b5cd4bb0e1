"""Asset keys shared across domains (the graph: stream → aggregates, stream → archive → Glue → dbt)."""

from __future__ import annotations

import dagster as dg

SOURCE_STREAM = dg.AssetKey(["kinesis", "wildrydes"])
SUMMARY_STREAM = dg.AssetKey(["kinesis", "wildrydes_summary"])
AGGREGATES = dg.AssetKey(["dynamodb", "unicorn_sensor_data"])
ARCHIVE = dg.AssetKey(["s3", "archive_raw"])
RAW = dg.AssetKey("raw_unicorn_status")
ALERTS = dg.AssetKey(["platform", "alerts"])
