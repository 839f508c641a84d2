-- Rule: ref() and source() name a relation without its database on DuckDB (a view then
-- stays valid in a copy of the file under another name), and with it on other targets.
{%- set relation = api.Relation.create(
    database='any_db', schema='any_schema', identifier='any_table'
) %}
{%- set expected = '"any_schema"."any_table"' if target.type == 'duckdb'
    else '"any_db"."any_schema"."any_table"' %}
with

cases as (
    select
        '{{ expected }}' as expected,
        '{{ relation_for_reference(relation) }}' as actual
)

select * from cases
where actual <> expected
