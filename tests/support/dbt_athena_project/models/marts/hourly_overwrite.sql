-- incremental, insert_overwrite on a partitioned Hive table: a run replaces the partitions it produces
{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partitioned_by=['hour'],
          format='parquet') }}
select
    name,
    count(*) as records,
    sum(distance) as distance,
    '{{ invocation_id }}' as run_id,
    hour
from {{ ref('stg_unicorn_status') }}
where hour between '{{ var("first_hour") }}' and '{{ var("last_hour") }}'
group by name, hour
