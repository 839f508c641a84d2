{#- The grants of every model holding PII (the custom schema `pii`): SELECT for the campaign
    role on SQL Server only (dbt also revokes the other grants it sees on the relation: those
    INFORMATION_SCHEMA.TABLE_PRIVILEGES shows the dbt user). DuckDB has no roles, and
    dbt-duckdb fails on a grants config. -#}
{%- macro campaign_list_grants() -%}
    {%- if target.type == 'sqlserver' -%}
        {{ return({'select': [campaign_role()]}) }}
    {%- endif -%}
    {{ return({}) }}
{%- endmacro -%}
