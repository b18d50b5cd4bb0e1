-- a view over the Glue archive table
select
    name,
    arrivaltime,
    distance,
    healthpoints,
    magicpoints,
    dt,
    hour
from {{ source('wildrydes', 'unicorn_status') }}
where dt = '2026-11-25'
