{#- Drops the work relations a failed or killed build left in the schemas this project builds
    (named `__dbt_tmp` as dbt names them), so none outlives the next build's end. Runs as an
    on-run-end hook; a no-op where the adapter cleans up after itself (SQL Server's temporary
    relations are dropped by each materialization, test_faults_infra.py checks it).
    Dispatched because only dbt-duckdb leaves them behind. -#}
{%- macro drop_leftover_work_relations() -%}
    {{ return(adapter.dispatch('drop_leftover_work_relations', 'customer_segmentation')()) }}
{%- endmacro -%}

{%- macro default__drop_leftover_work_relations() -%}
{%- endmacro -%}

{%- macro duckdb__drop_leftover_work_relations() -%}
    {%- if execute -%}
        {%- set leftovers = run_query(
            "select table_schema, table_name, table_type from information_schema.tables"
            ~ " where table_catalog = current_database()"
            ~ " and contains(table_name, '__dbt_tmp')"
        ) -%}
        {%- for schema, name, table_type in leftovers.rows -%}
            {%- set relation = api.Relation.create(
                database=target.database,
                schema=schema,
                identifier=name,
                type='view' if table_type == 'VIEW' else 'table'
            ) -%}
            {%- do log('dropping ' ~ relation ~ ', left behind by a failed or killed build', info=true) -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro -%}
