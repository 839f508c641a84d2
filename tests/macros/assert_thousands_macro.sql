-- Rule: _thousands writes a whole number with a comma between groups of three digits, for
-- the source guard's messages.
{%- set examples = [
    (0, '0'),
    (999, '999'),
    (1000, '1,000'),
    (1234567, '1,234,567'),
    ('28800000', '28,800,000'),
] %}
with

cases as (
    {%- for number, expected in examples %}
        select
            '{{ number }}' as number,
            '{{ expected }}' as expected,
            '{{ _thousands(number) }}' as actual
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from cases
where actual <> expected
