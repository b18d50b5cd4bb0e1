{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partitioned_by=['dt'],
    tags=['daily'],
) }}

-- Per unicorn per arrival day. Speeds come from the per-second Distance (metres in the last second).
with records as (

    select * from {{ ref('stg_unicorn_status') }}
    where {{ arrival_window_filter() }}

)

select
    unicorn_name,
    cast(dt as date) as activity_date,
    sum(distance_m) / 1000.0 as distance_km,
    avg(distance_m) * 3600 / 1000 as avg_speed_kmh,
    max(distance_m) * 3600 / 1000 as top_speed_kmh,
    min(health_points) as min_health_points,
    max(health_points) as max_health_points,
    avg(health_points) as avg_health_points,
    min(magic_points) as min_magic_points,
    max(magic_points) as max_magic_points,
    avg(magic_points) as avg_magic_points,
    count(distinct date_trunc('minute', arrival_time)) as minutes_active,
    count(*) as record_count,
    dt
from records
group by unicorn_name, dt
