{#- Where a relation goes. dbt's own rule, `<target schema>_<custom schema>` (dbo_pii,
    dev_alice_pii: every target keeps its own), also on SQL Server, where dbt-sqlserver would
    otherwise use the custom schema's bare name for every target. The custom schema `pii`
    holds the relations with e-mail addresses and names, readable only by the campaign role:
    a schema of its own only where the database has roles (SQL Server). DuckDB has none: a
    second schema there would protect nothing and would move tables BI and the mailer read,
    so they stay in the target schema. -#}
{%- macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is not none and custom_schema_name | trim == 'pii'
        and target.type != 'sqlserver' -%}
        {{ target.schema }}
    {%- else -%}
        {{ default__generate_schema_name(custom_schema_name, node) }}
    {%- endif -%}
{%- endmacro -%}
