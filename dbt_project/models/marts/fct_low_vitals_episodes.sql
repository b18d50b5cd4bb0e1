{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partitioned_by=['dt'],
    tags=['daily'],
) }}

-- Contiguous periods in which a unicorn's health or magic is below the threshold (the workshop's
-- alert): consecutive low records, split where a record is not low or the unicorn was silent for more
-- than episode_gap_seconds. A run reads episode_edge_hours beyond its window on each side, so that an
-- episode crossing the window's edge is seen whole (up to that margin); it keeps the episodes that
-- start in its window (partition dt = the start's date).
{% set threshold = var('low_vitals_threshold') %}

with records as (

    select unicorn_name, arrival_time, health_points, magic_points
    from {{ ref('stg_unicorn_status') }}
    where {{ arrival_window_filter(lookback_hours=var('episode_edge_hours'), lookahead_hours=var('episode_edge_hours')) }}

),

flagged as (

    select
        *,
        health_points < {{ threshold }} or magic_points < {{ threshold }} as is_low,
        lag(health_points < {{ threshold }} or magic_points < {{ threshold }})
            over (partition by unicorn_name order by arrival_time) as previous_low,
        lag(arrival_time) over (partition by unicorn_name order by arrival_time) as previous_arrival
    from records

),

low as (

    select
        *,
        case
            when previous_low is null or not previous_low then 1
            when to_unixtime(arrival_time) - to_unixtime(previous_arrival) > {{ var('episode_gap_seconds') }} then 1
            else 0
        end as starts_episode
    from flagged
    where is_low

),

numbered as (

    select
        *,
        sum(starts_episode) over (
            partition by unicorn_name order by arrival_time rows between unbounded preceding and current row
        ) as episode_number
    from low

),

episodes as (

    select
        unicorn_name,
        min(arrival_time) as episode_start,
        max(arrival_time) as episode_end,
        min(health_points) as min_health_points,
        min(magic_points) as min_magic_points,
        bool_or(health_points < {{ threshold }}) as health_low,
        bool_or(magic_points < {{ threshold }}) as magic_low,
        count(*) as record_count
    from numbered
    group by unicorn_name, episode_number

)

select
    unicorn_name,
    episode_start,
    episode_end,
    to_unixtime(episode_end) - to_unixtime(episode_start) as duration_s,
    min_health_points,
    min_magic_points,
    health_low,
    magic_low,
    record_count,
    cast(cast(episode_start as date) as varchar) as dt
from episodes
where {{ in_window('episode_start') }}
