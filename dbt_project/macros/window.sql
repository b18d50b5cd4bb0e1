{#
  The time window of a partitioned run, from the vars window_start / window_end ('YYYY-MM-DD HH:MM:SS',
  UTC, end exclusive). Both unset: the whole table.

  arrival_window_filter() restricts records to the window by their arrival time, and first by the Hive
  partition column dt so that Athena prunes partitions. lookback_hours / lookahead_hours widen the window
  (for models that must see a little before or after it).
#}

{% macro window_bound(name, shift_hours=0) -%}
  {%- set value = var(name, none) -%}
  {%- if value is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set moment = modules.datetime.datetime.strptime(value[:19], '%Y-%m-%d %H:%M:%S') -%}
  {{ return(moment + modules.datetime.timedelta(hours=shift_hours)) }}
{%- endmacro %}


{% macro arrival_window_filter(time_column='arrival_time', dt_column='dt', lookback_hours=0, lookahead_hours=0) -%}
  {%- set start = window_bound('window_start', -lookback_hours) -%}
  {%- set end = window_bound('window_end', lookahead_hours) -%}
  {%- if start is none and end is none -%}
    true
  {%- else -%}
    {%- if start is not none -%}
      {{ dt_column }} >= '{{ start.strftime('%Y-%m-%d') }}'
      and {{ time_column }} >= timestamp '{{ start.strftime('%Y-%m-%d %H:%M:%S') }}'
    {%- endif -%}
    {%- if start is not none and end is not none %} and {% endif -%}
    {%- if end is not none -%}
      {{ dt_column }} <= '{{ end.strftime('%Y-%m-%d') }}'
      and {{ time_column }} < timestamp '{{ end.strftime('%Y-%m-%d %H:%M:%S') }}'
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}


{% macro in_window(time_column) -%}
  {%- set start = window_bound('window_start') -%}
  {%- set end = window_bound('window_end') -%}
  {%- if start is none and end is none -%}
    true
  {%- else -%}
    {%- if start is not none -%}{{ time_column }} >= timestamp '{{ start.strftime('%Y-%m-%d %H:%M:%S') }}'{%- endif -%}
    {%- if start is not none and end is not none %} and {% endif -%}
    {%- if end is not none -%}{{ time_column }} < timestamp '{{ end.strftime('%Y-%m-%d %H:%M:%S') }}'{%- endif -%}
  {%- endif -%}
{%- endmacro %}
