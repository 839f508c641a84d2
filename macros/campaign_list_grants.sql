{#- The grants of every model holding e-mail addresses: SELECT for the campaign role on SQL
    Server only. DuckDB has no roles, and dbt-duckdb fails on a grants config. -#}
{%- macro campaign_list_grants() -%}
    {%- if target.type == 'sqlserver' -%}
        {{ return({'select': [campaign_role()]}) }}
    {%- endif -%}
    {{ return({}) }}
{%- endmacro -%}
