{#- A scalar subquery: the latest `refreshed_at` in `relation` (an incremental model's own
    table, `this`), or a time before any build when it holds no rows. An incremental model
    takes the upstream rows refreshed after it, which is every row a build changed since this
    model last ran, whether or not the builds between them finished. -#}
{%- macro last_refreshed_at(relation) -%}
    (
        select coalesce(max(refreshed_at), {{ epoch_stamp() }})
        from {{ relation }}
    )
{%- endmacro -%}

{#- A time before any build, typed as build_stamp() is. -#}
{%- macro epoch_stamp() -%}
    {{ return(stamp_literal('1900-01-01 00:00:00.000000')) }}
{%- endmacro -%}
