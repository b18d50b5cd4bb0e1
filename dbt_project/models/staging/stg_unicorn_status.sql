{{ config(tags=['hourly']) }}

-- Typed, snake_case, one row per Kinesis record: Firehose delivers at least once, so a record can be
-- archived twice; it is the same (shard, sequence number), in the same arrival partition.
with source as (

    select * from {{ source('wildrydes', 'unicorn_status') }}

),

renamed as (

    select
        name as unicorn_name,
        cast(statustime as timestamp(3)) as status_time,
        latitude,
        longitude,
        distance as distance_m,
        healthpoints as health_points,
        magicpoints as magic_points,
        arrivaltime as arrival_time,
        sequencenumber as sequence_number,
        shardid as shard_id,
        dt,
        hour
    from source

),

deduplicated as (

    -- Copies of a record are identical (same shard, sequence number and values) and in the same arrival
    -- partition: grouping on that key keeps one (a hash aggregate, cheaper than a window function).
    select
        min(unicorn_name) as unicorn_name,
        min(status_time) as status_time,
        min(latitude) as latitude,
        min(longitude) as longitude,
        min(distance_m) as distance_m,
        min(health_points) as health_points,
        min(magic_points) as magic_points,
        min(arrival_time) as arrival_time,
        sequence_number,
        shard_id,
        dt,
        hour
    from renamed
    group by dt, hour, shard_id, sequence_number

)

select * from deduplicated
