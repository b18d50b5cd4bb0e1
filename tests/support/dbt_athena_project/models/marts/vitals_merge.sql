-- incremental, merge on an Iceberg table (emulated locally): a run updates the hours it sees again
{{ config(materialized='incremental', table_type='iceberg', incremental_strategy='merge',
          unique_key=['name', 'hour'], format='parquet') }}
select
    name,
    hour,
    count(*) as records,
    '{{ invocation_id }}' as run_id
from {{ ref('stg_unicorn_status') }}
where hour between '{{ var("first_hour") }}' and '{{ var("last_hour") }}'
group by name, hour
