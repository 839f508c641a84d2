{#- on-run-start: create, and commit, the table in which every build of the cluster table logs
    its time (the post-hook of customer_clusters). dbt rolls on-run-start hooks back unless
    committed. Not a dbt model: a rebuild or --full-refresh must never empty it. -#}
{%- macro create_cluster_build_log() -%}
    {#- Only when dbt writes: `dbt compile --no-introspect` for SQL Server has no connection. -#}
    {%- if execute and flags.WHICH in ['run', 'build', 'test', 'seed', 'snapshot'] -%}
        {%- call statement('create_cluster_build_log') -%}
            {{ cluster_build_log_ddl() }}
        {%- endcall -%}
        {#- dbt-duckdb wraps on-run-start in a transaction it rolls back; SQL Server's
            connection autocommits. -#}
        {%- if target.type == 'duckdb' -%}
            {%- do adapter.commit() -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro -%}
