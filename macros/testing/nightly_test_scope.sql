{#- The condition a nightly test adds: `refreshed_at > <start of the last successful run or
    build>`, or none (check every row). None unless all of these hold: a `dbt build` without
    --full-refresh that may query the database; the test does not opt out (`meta:
    {nightly_scope: full}`, for rules about a whole table); the tested model declares a
    `refreshed_at` column and this build builds it (not so with the selector `full_checks`,
    tests only); and a successful run or build is logged in `source_table_builds` (none on
    a first build). Rows a failed build wrote are
    later than that start, so the next build checks them again. -#}
{%- macro nightly_test_scope() -%}
    {%- if not is_nightly_build() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if (config.get('meta') or {}).get('nightly_scope') == 'full' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if tested is none -%}
        {{ return(source_nightly_scope()) }}
    {%- endif -%}
    {%- if 'refreshed_at' not in tested.columns -%}
        {{ return(none) }}
    {%- endif -%}
    {#- A build that does not build the model (the tests-only selector full_checks, a
        `--select` of tests) checks what is there, all of it. -#}
    {%- if tested.unique_id not in selected_resources -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not key_test_sound_on_changed_rows(tested) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = last_successful_build_started_at() -%}
    {%- if since is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return('refreshed_at > ' ~ stamp_literal(since)) }}
{%- endmacro -%}

{#- Whether this test, if it is a key test (`unique`, `unique_key_columns`), may check only
    the changed rows of the model `tested`: a duplicate pairs a changed row with an old one
    only if the old row kept a key the changed row has, which delete+insert (and merge)
    rules out when the tested columns include the model's `unique_key` (every old row of a
    key in the batch is replaced). Other key tests on an incremental model check the whole
    table; tables rebuilt in full stamp every row, and other tests check row by row. -#}
{%- macro key_test_sound_on_changed_rows(tested) -%}
    {%- set test_name = model.test_metadata.name if model.test_metadata else none -%}
    {%- if test_name not in ['unique', 'unique_key_columns']
        or tested.config.materialized != 'incremental' -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set kwargs = model.test_metadata.kwargs -%}
    {%- set columns = [kwargs.column_name] if test_name == 'unique' else kwargs.combination -%}
    {%- set unique_key = tested.config.unique_key -%}
    {%- if unique_key is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set key_columns = [unique_key] if unique_key is string else unique_key -%}
    {%- set tested_columns = columns | map('lower') | list -%}
    {%- for column in key_columns if column | lower not in tested_columns -%}
        {{ return(false) }}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro -%}

{#- When the last run or build without failures started (its `built_at` in the source
    guard's log, written by record_source_baseline), as text 'YYYY-MM-DD HH:MM:SS.ffffff';
    none when nothing is logged yet. Read at run time; the value is checked before it is
    spliced into SQL. -#}
{%- macro last_successful_build_started_at() -%}
    {%- set log = adapter.get_relation(
        database=target.database, schema=target.schema, identifier='source_table_builds'
    ) -%}
    {%- if log is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query('select max(built_at) from ' ~ target.schema ~ '.source_table_builds') -%}
    {%- set value = result.columns[0].values()[0] -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}', value | string) -%}
        {{ exceptions.raise_compiler_error(
            "source_table_builds.built_at is not a build stamp: '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value | string) }}
{%- endmacro -%}
{#- The nightly scope of a test on a source table whose YAML declares `meta: {nightly_scope:
    {column, watermark_model, watermark_column}}` (store_sales: lines on tickets above the
    ticket watermark of int_customer_orders, the lines it has not aggregated yet), while this
    build builds that model: `(column > watermark or column is null)`, so a NULL key is still
    seen. Source tests run before the models, so these are exactly the build's new lines.
    none (every row) otherwise. -#}
{%- macro source_nightly_scope() -%}
    {%- set sources = [] -%}
    {%- for node_id in model.depends_on.nodes if node_id.startswith('source.') -%}
        {%- do sources.append(node_id) -%}
    {%- endfor -%}
    {%- if sources | length != 1 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set source_node = graph.sources.get(sources[0]) -%}
    {%- set scope = (source_node.meta or {}).get('nightly_scope') if source_node else none -%}
    {%- if not scope -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set identifier = '[A-Za-z_][A-Za-z0-9_]*' -%}
    {%- for part in ['column', 'watermark_model', 'watermark_column'] -%}
        {%- if not modules.re.fullmatch(identifier, scope.get(part, '') | string) -%}
            {{ exceptions.raise_compiler_error(
                source_node.name ~ ': meta nightly_scope.' ~ part ~ ' must be a name'
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set watermark_id = 'model.' ~ project_name ~ '.' ~ scope.watermark_model -%}
    {%- if watermark_id not in selected_resources -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set watermark = incremental_test_watermark(scope.watermark_model, scope.watermark_column) -%}
    {%- if watermark is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(
        '(' ~ scope.column ~ ' > ' ~ (watermark | int) ~ ' or ' ~ scope.column ~ ' is null)'
    ) }}
{%- endmacro -%}


{#- Whether this invocation is a nightly build whose tests may check only what it changed: a
    `dbt build` without --full-refresh that may query the database (not `dbt test`, nor a
    compile under --no-introspect, as the SQL Server target is proven). -#}
{%- macro is_nightly_build() -%}
    {{ return(execute and flags.INTROSPECT and flags.WHICH == 'build' and not flags.FULL_REFRESH) }}
{%- endmacro -%}
