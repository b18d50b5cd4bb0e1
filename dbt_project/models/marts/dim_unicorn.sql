{{ config(materialized='table', tags=['current']) }}

-- One row per unicorn ever seen, from the per-minute facts (small: one row per unicorn per minute).
with minutes as (

    select * from {{ ref('fct_unicorn_minute') }}

)

select
    unicorn_name,
    min(first_arrival_time) as first_seen,
    max(last_arrival_time) as last_seen,
    sum(distance_m) / 1000.0 as lifetime_distance_km,
    sum(record_count) as lifetime_records,
    count(distinct dt) as days_active,
    max_by(last_latitude, last_arrival_time) as last_latitude,
    max_by(last_longitude, last_arrival_time) as last_longitude,
    max_by(last_health_points, last_arrival_time) as last_health_points,
    max_by(last_magic_points, last_arrival_time) as last_magic_points
from minutes
group by unicorn_name
