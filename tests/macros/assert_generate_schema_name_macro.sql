-- Rule: a relation goes to the target schema when it has no custom schema, to
-- <target schema>_<custom schema> otherwise, except the custom schema `pii`, which is a
-- schema of its own only on SQL Server (the one target with roles).
{%- set examples = [
    (none, target.schema),
    ('pii', target.schema ~ '_pii' if target.type == 'sqlserver' else target.schema),
    (' pii ', target.schema ~ '_pii' if target.type == 'sqlserver' else target.schema),
    ('reports', target.schema ~ '_reports'),
] %}
with

cases as (
    {%- for custom_schema, expected in examples %}
        select
            '{{ custom_schema }}' as custom_schema,
            '{{ expected }}' as expected,
            '{{ generate_schema_name(custom_schema, model) | trim }}' as actual
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from cases
where actual <> expected
