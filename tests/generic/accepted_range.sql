{#- Rows where the column lies outside [min_value, max_value] (either bound optional,
    both inclusive). NULLs are left to not_null. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

with

out_of_range as (
    select {{ column_name }} as value_out_of_range
    from {{ model }}
    where
        1 = 0
        {%- if min_value is not none %}
        or {{ column_name }} < {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} > {{ max_value }}
        {%- endif %}
)

select * from out_of_range

{% endtest %}
