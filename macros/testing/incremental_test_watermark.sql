{#- The highest `watermark_column` of the model `watermark_model` as a SQL literal, when a
    test may check only the rows above it: in `dbt build` without --full-refresh, once the
    model's table exists and holds rows, when the build builds that model. none (check every
    row) otherwise: `dbt test`, which runs after a `dbt run` has already consumed the new
    rows, a full refresh, a first build, a build of tests only (the selector full_checks),
    and compiles that may not query the database. Read at run time, not through ref(): a
    ref would make the source test wait for the model it is meant to guard. -#}
{%- macro incremental_test_watermark(watermark_model, watermark_column) -%}
    {%- if not is_nightly_build() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set nodes = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', watermark_model)
        | list -%}
    {%- if nodes | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "incremental_test_watermark: no model named '" ~ watermark_model ~ "'"
        ) }}
    {%- endif -%}
    {%- set node = nodes[0] -%}
    {#- Only the build that consumes the new rows may check them alone: a build that does not
        build the model (the tests-only selector full_checks) checks every row. -#}
    {%- if node.unique_id not in selected_resources -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias
    ) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(
        'select max(' ~ watermark_column ~ ') from ' ~ relation
    ) -%}
    {%- set value = result.columns[0].values()[0] -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro -%}
