{#- dbt-duckdb's choice of work relation for incremental models, except for Python models.
    dbt-duckdb asks for a connection-local temporary table and so never drops it; but a
    Python model runs on a cursor of its own, which cannot see the materialization's
    temporary tables, so its result is written as an ordinary table
    `<model>__dbt_tmp<timestamp>` and was left behind on every incremental build. Marked not
    temporary, the materialization drops it after the commit like any other work relation. -#}
{%- macro duckdb__dispatch_temporary_relation(target_relation, batch_id='') -%}
    {%- if model.language == 'python' and not adapter.is_motherduck() -%}
        {%- set temp_relation = make_temp_relation(target_relation) -%}
        {{ return({
            'relation': temp_relation.incorporate(
                path={'database': target_relation.database, 'schema': target_relation.schema}
            ),
            'temporary': false,
        }) }}
    {%- endif -%}
    {{ return(dbt.duckdb__dispatch_temporary_relation(target_relation, batch_id)) }}
{%- endmacro -%}
