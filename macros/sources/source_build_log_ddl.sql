{#- The log of what each successful run or build saw of each source table, created only if
    missing. Not a dbt model: a rebuild or --full-refresh must never empty it. Dispatched
    because SQL Server has no `create table if not exists`. -#}
{%- macro source_build_log_ddl() -%}
    {{ return(adapter.dispatch('source_build_log_ddl', 'customer_segmentation')()) }}
{%- endmacro -%}

{%- macro default__source_build_log_ddl() -%}
    create table if not exists {{ target.schema }}.source_table_builds (
        built_at varchar(32) not null,
        invocation_id varchar(36) not null,
        source_table varchar(256) not null,
        row_count bigint not null,
        max_key bigint
    )
{%- endmacro -%}

{%- macro sqlserver__source_build_log_ddl() -%}
    if object_id('{{ target.schema }}.source_table_builds', 'U') is null
    create table {{ target.schema }}.source_table_builds (
        built_at varchar(32) not null,
        invocation_id varchar(36) not null,
        source_table varchar(256) not null,
        row_count bigint not null,
        max_key bigint
    )
{%- endmacro -%}
