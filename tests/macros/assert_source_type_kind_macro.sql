-- Rule: source_type_kind puts each column type, as DuckDB and SQL Server name it, in its
-- family: integer, number (decimals with places, floats, money) or text, else other.
{%- set examples = [
    ('BIGINT', none, 'integer'),
    ('INTEGER', none, 'integer'),
    ('HUGEINT', none, 'integer'),
    ('int', none, 'integer'),
    ('tinyint', none, 'integer'),
    ('decimal', 0, 'integer'),
    ('numeric(18,0)', none, 'integer'),
    ('DECIMAL(7,2)', none, 'number'),
    ('decimal', 2, 'number'),
    ('numeric', none, 'number'),
    ('DOUBLE', none, 'number'),
    ('float', none, 'number'),
    ('money', none, 'number'),
    ('VARCHAR', none, 'text'),
    ('char', none, 'text'),
    ('nvarchar(50)', none, 'text'),
    ('character varying(256)', none, 'text'),
    ('DATE', none, 'other'),
    ('BOOLEAN', none, 'other'),
    ('', none, 'other'),
] %}

with

cases as (
    {% for data_type, scale, expected in examples %}
        select
            '{{ data_type }}' as data_type,
            '{{ expected }}' as expected,
            '{{ source_type_kind(data_type, scale) }}' as actual
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from cases
where actual <> expected
