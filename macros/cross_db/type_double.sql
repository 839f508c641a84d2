{#- An 8-byte float on every target. Dispatched because dbt.type_float() renders `float`,
    which is 4 bytes on DuckDB but 8 on SQL Server, so the feature ratios would lose precision
    on DuckDB. -#}
{%- macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'customer_segmentation')()) }}
{%- endmacro -%}

{%- macro default__type_double() -%}
    float
{%- endmacro -%}

{%- macro duckdb__type_double() -%}
    double
{%- endmacro -%}
