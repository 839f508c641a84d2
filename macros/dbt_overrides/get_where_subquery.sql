{#- dbt's hook around the model of every generic test (dbt docs, the `where` config), so
    that a nightly `dbt build` checks only the rows builds changed since the last successful
    one: on a model with a `refreshed_at` column, the rows whose refreshed_at is later than
    that build's start (nightly_test_scope). A `where` config applies as in dbt's own
    macro, and with the scope. Every other invocation checks whole tables. -#}
{%- macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope = nightly_test_scope() -%}
    {%- if scope is not none -%}
        {%- do conditions.append(scope) -%}
    {%- endif -%}
    {%- if not conditions -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro -%}
