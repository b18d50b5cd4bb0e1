{{ config(materialized='table', partitioned_by=['dt'], tags=['current']) }}

-- Movement sessions: a unicorn's consecutive active minutes, split where it was silent for more than
-- trip_gap_seconds (between the last record of one minute and the first of the next active minute —
-- exact for gaps of a minute or more). Rebuilt from fct_unicorn_minute, partitioned by start date.
with minutes as (

    select * from {{ ref('fct_unicorn_minute') }}

),

flagged as (

    select
        *,
        case
            when lag(last_arrival_time) over (partition by unicorn_name order by minute_start) is null then 1
            when to_unixtime(first_arrival_time)
                 - to_unixtime(lag(last_arrival_time) over (partition by unicorn_name order by minute_start))
                 > {{ var('trip_gap_seconds') }} then 1
            else 0
        end as starts_trip
    from minutes

),

numbered as (

    select
        *,
        sum(starts_trip) over (
            partition by unicorn_name order by minute_start rows between unbounded preceding and current row
        ) as trip_number
    from flagged

),

trips as (

    select
        unicorn_name,
        trip_number,
        min(first_arrival_time) as trip_start,
        max(last_arrival_time) as trip_end,
        sum(distance_m) as distance_m,
        sum(record_count) as record_count,
        min_by(first_latitude, minute_start) as start_latitude,
        min_by(first_longitude, minute_start) as start_longitude,
        max_by(last_latitude, minute_start) as end_latitude,
        max_by(last_longitude, minute_start) as end_longitude
    from numbered
    group by unicorn_name, trip_number

)

select
    unicorn_name,
    trip_number,
    trip_start,
    trip_end,
    to_unixtime(trip_end) - to_unixtime(trip_start) as duration_s,
    distance_m / 1000.0 as distance_km,
    record_count,
    start_latitude,
    start_longitude,
    end_latitude,
    end_longitude,
    cast(cast(trip_start as date) as varchar) as dt
from trips
