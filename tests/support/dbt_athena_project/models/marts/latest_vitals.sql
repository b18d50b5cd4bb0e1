-- a table materialized as Iceberg (dbt-athena builds it under a unique location, then renames it)
{{ config(materialized='table', table_type='iceberg', format='parquet') }}
select name, max(arrivaltime) as last_seen, min(healthpoints) as min_health
from {{ ref('stg_unicorn_status') }}
group by name
