{#- This invocation's start time as a typed SQL literal: the `refreshed_at` every incremental
    model writes on the rows it (re)computes, so the next model (and the nightly tests) can
    take only the rows a build changed. One value per invocation (dbt's run_started_at, UTC),
    so every row a build writes carries the same stamp. Dispatched for the type's name:
    T-SQL's `timestamp` is a row version, not a time. -#}
{%- macro build_stamp() -%}
    {{ return(adapter.dispatch('build_stamp', 'customer_segmentation')()) }}
{%- endmacro -%}

{%- macro default__build_stamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro -%}

{%- macro sqlserver__build_stamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as datetime2(6))
{%- endmacro -%}
