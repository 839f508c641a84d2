{#- Rows whose combination of columns is not unique (dbt-utils has this; no dbt packages can
    be installed here). Fails with one row per duplicated combination. -#}
{% test unique_combination_of_columns(model, combination) %}

with

duplicated_combinations as (
    select
        {{ combination | join(',\n        ') }},
        count(*) as occurrences
    from {{ model }}
    group by
        {{ combination | join(',\n        ') }}
    having count(*) > 1
)

select * from duplicated_combinations

{% endtest %}
