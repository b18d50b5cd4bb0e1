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

    select
        *,
        row_number() over (
            partition by dt, hour, shard_id, sequence_number
            order by arrival_time
        ) as delivery
    from renamed

)

select
    unicorn_name,
    status_time,
    latitude,
    longitude,
    distance_m,
    health_points,
    magic_points,
    arrival_time,
    sequence_number,
    shard_id,
    dt,
    hour
from deduplicated
where delivery = 1
