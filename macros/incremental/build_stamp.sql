{#- This invocation's start time as a typed SQL literal: the `refreshed_at` every incremental
    model writes on the rows it (re)computes, so the next model (and the nightly tests) can
    take only the rows a build changed. One value per invocation (dbt's run_started_at, UTC),
    so every row a build writes carries the same stamp. -#}
{%- macro build_stamp() -%}
    {{ return(stamp_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f'))) }}
{%- endmacro -%}

{#- A 'YYYY-MM-DD HH:MM:SS.ffffff' text as a literal of the stamps' type. Dispatched for the
    type's name: T-SQL's `timestamp` is a row version, not a time. -#}
{%- macro stamp_literal(value) -%}
    {{ return(adapter.dispatch('stamp_literal', 'customer_segmentation')(value)) }}
{%- endmacro -%}

{%- macro default__stamp_literal(value) -%}
    {{ return("cast('" ~ value ~ "' as timestamp)") }}
{%- endmacro -%}

{%- macro sqlserver__stamp_literal(value) -%}
    {{ return("cast('" ~ value ~ "' as datetime2(6))") }}
{%- endmacro -%}
