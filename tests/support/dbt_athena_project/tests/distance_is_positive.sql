-- a singular test: no hour of any unicorn has a negative distance
select * from {{ ref('distance_by_hour') }} where distance < 0
