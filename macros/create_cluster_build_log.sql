{#- on-run-start: create, and commit, the table in which every build of the cluster table logs
    its time (the post-hook of customer_clusters). Not a dbt model: a rebuild or
    --full-refresh must never empty it. -#}
{%- macro create_cluster_build_log() -%}
    {#- Only when dbt writes: `dbt compile --no-introspect` for SQL Server has no connection. -#}
    {%- if execute and flags.WHICH in ['run', 'build', 'test', 'seed', 'snapshot'] -%}
        {%- call statement('create_cluster_build_log') -%}
            {{ cluster_build_log_ddl() }}
        {%- endcall -%}
        {#- The statement opened a transaction on every target (dbt-duckdb's, and SQL
            Server's with dbt_sqlserver_use_dbt_transactions), and dbt ends a hook's
            transaction by rolling it back: commit it here. Without dbt transactions
            SQL Server autocommitted the statement and this commit sends nothing. -#}
        {%- do adapter.commit() -%}
    {%- endif -%}
{%- endmacro -%}
