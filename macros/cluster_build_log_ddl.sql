{#- The DDL of the cluster build log, created only if missing. Dispatched because SQL Server
    has no `create table if not exists`. -#}
{%- macro cluster_build_log_ddl() -%}
    {{ return(adapter.dispatch('cluster_build_log_ddl', 'customer_segmentation')()) }}
{%- endmacro -%}

{%- macro default__cluster_build_log_ddl() -%}
    create table if not exists {{ target.schema }}.cluster_table_builds (
        built_at varchar(32) not null
    )
{%- endmacro -%}

{%- macro sqlserver__cluster_build_log_ddl() -%}
    if object_id('{{ target.schema }}.cluster_table_builds', 'U') is null
    create table {{ target.schema }}.cluster_table_builds (
        built_at varchar(32) not null
    )
{%- endmacro -%}
