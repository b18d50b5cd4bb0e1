"""The dbt-athena project (``dbt_project/``) as Dagster assets, partitioned by time window."""
