{# A generic data test: no two rows share the given columns' values (as dbt_utils' unique_combination_of_columns). #}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
