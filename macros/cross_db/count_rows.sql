{#- The number of rows (where `condition` holds, if given) as a bigint aggregate. Dispatched
    because T-SQL's count() is an int, which overflows past 2^31 rows: count_big() there. -#}
{%- macro count_rows(condition=none) -%}
    {{ return(adapter.dispatch('count_rows', 'customer_segmentation')(condition)) }}
{%- endmacro -%}

{%- macro default__count_rows(condition) -%}
    {%- if condition is none -%}
        count(*)
    {%- else -%}
        count(case when {{ condition }} then 1 end)
    {%- endif -%}
{%- endmacro -%}

{%- macro sqlserver__count_rows(condition) -%}
    {%- if condition is none -%}
        count_big(*)
    {%- else -%}
        count_big(case when {{ condition }} then 1 end)
    {%- endif -%}
{%- endmacro -%}
