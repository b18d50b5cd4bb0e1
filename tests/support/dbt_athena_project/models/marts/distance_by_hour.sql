-- a partitioned Hive Parquet table
{{ config(materialized='table', format='parquet', partitioned_by=['hour']) }}
select
    s.name,
    p.colour,
    sum(s.distance) as distance,
    count(*) as records,
    min(s.healthpoints) as min_health,
    s.hour
from {{ ref('stg_unicorn_status') }} s
join {{ ref('unicorn_profiles') }} p on p.name = s.name
group by s.name, p.colour, s.hour
