{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partitioned_by=['dt', 'hour'],
    tags=['hourly'],
) }}

-- Per unicorn per arrival minute: the numbers the stream's aggregator writes to DynamoDB (a Lambda
-- tumbling window of 60 s is the arrival minute). Incremental: a run rewrites only the (dt, hour)
-- partitions of its window.
with records as (

    select * from {{ ref('stg_unicorn_status') }}
    where {{ arrival_window_filter() }}

)

select
    unicorn_name,
    date_trunc('minute', arrival_time) as minute_start,
    date_trunc('minute', arrival_time) + interval '1' minute as minute_end,
    sum(distance_m) as distance_m,
    min(health_points) as min_health_points,
    max(health_points) as max_health_points,
    min(magic_points) as min_magic_points,
    max(magic_points) as max_magic_points,
    count(*) as record_count,
    min(arrival_time) as first_arrival_time,
    max(arrival_time) as last_arrival_time,
    min_by(latitude, arrival_time) as first_latitude,
    min_by(longitude, arrival_time) as first_longitude,
    max_by(latitude, arrival_time) as last_latitude,
    max_by(longitude, arrival_time) as last_longitude,
    max_by(health_points, arrival_time) as last_health_points,
    max_by(magic_points, arrival_time) as last_magic_points,
    dt,
    hour
from records
group by unicorn_name, date_trunc('minute', arrival_time), dt, hour
