{#- Source freshness without a load timestamp. dsdgen's tables (and the restored tpcxbb_1gb)
    carry no column saying when a row was loaded, so "fresh" is measured where the project
    sees loads: the source guard's log `source_table_builds`, one row per table and successful
    build with its row count and highest key. A table last grew when a build first saw its
    present (row count, highest key); a nightly load that stops coming leaves that time
    behind and `dbt source freshness` warns, then errors. A loaded_at_query for the source
    YAML: a SELECT of one value, with no CTE of its own (dbt wraps it in one). -#}
{%- macro source_last_grew_at(source_relation) -%}
    {%- set log = target.schema ~ '.source_table_builds' -%}
    {%- set table = source_relation.schema ~ '.' ~ source_relation.identifier -%}
    {%- if not modules.re.fullmatch('[A-Za-z0-9_.]+', table) -%}
        {{ exceptions.raise_compiler_error('source_last_grew_at: unexpected table name ' ~ table) }}
    {%- endif -%}
    select min(cast(builds.built_at as {{ dbt.type_timestamp() }})) as last_grew_at
    from {{ log }} as builds
    where
        builds.source_table = '{{ table }}'
        and builds.built_at > coalesce((
            select max(older.built_at)
            from {{ log }} as older
            inner join {{ log }} as latest
                on older.source_table = latest.source_table
            where
                latest.source_table = '{{ table }}'
                and latest.built_at = (
                    select max(newest.built_at)
                    from {{ log }} as newest
                    where newest.source_table = '{{ table }}'
                )
                and (
                    older.row_count <> latest.row_count
                    or coalesce(older.max_key, -1) <> coalesce(latest.max_key, -1)
                )
        ), '')
{%- endmacro -%}
