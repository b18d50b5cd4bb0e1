-- incremental, append: each run adds the hours between the vars first_hour and last_hour
{{ config(materialized='incremental', incremental_strategy='append') }}
select
    name,
    hour,
    min(healthpoints) as min_health,
    max(magicpoints) as max_magic,
    count(*) as records
from {{ ref('stg_unicorn_status') }}
where hour between '{{ var("first_hour") }}' and '{{ var("last_hour") }}'
group by name, hour
