{#- Rows of the current segment model (the pinned or latest run of the registry) whose metric
    is NULL or outside [min_var, max_var] (either bound optional, both inclusive), with a
    message naming the problem. The bounds are given as var NAMES, read here through
    validated_var: dbt renders a test's arguments twice, so a var's value must never be one
    (its text would run as Jinja). Attached to the registry, so a failure skips every model
    downstream of it in `dbt build`, the campaign lists included. -#}
{% test current_model_metric_between(model, column_name, min_var=none, max_var=none) %}

{%- set min_value = none if min_var is none else plain_decimal(validated_var(min_var)) -%}
{%- set max_value = none if max_var is none else plain_decimal(validated_var(max_var)) %}

with

current_run as (
    select *
    from {{ model }}
    where run_id = {{ current_model_run_id(model) }}
),

bad_metric as (
    select
        run_id,
        segment_id,
        {{ column_name }} as metric_value,
        case
            when {{ column_name }} is null
                then '{{ column_name }} is NULL (silhouette and Davies-Bouldin need k >= 2)'
            else '{{ column_name }} outside [{{ min_value }}, {{ max_value }}] ({{ min_var or max_var }})'
        end as problem
    from current_run
    where
        {{ column_name }} is null
        {%- if min_value is not none %}
        or {{ column_name }} < {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} > {{ max_value }}
        {%- endif %}
)

select * from bad_metric

{% endtest %}
