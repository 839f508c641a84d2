-- Rule: the parsers behind validated_var read a var as given and nothing else:
-- integer_or_none takes YAML ints and ASCII digits only, decimal_or_none numbers and plain
-- decimal text of at most 9 + 15 digits only, plain_decimal never writes an exponent, and
-- given_text spells a value as the user wrote it.
{%- set examples = [
    ('integer_or_none', 5, 5),
    ('integer_or_none', '12', 12),
    ('integer_or_none', '-3', -3),
    ('integer_or_none', true, none),
    ('integer_or_none', 1.0, none),
    ('integer_or_none', '1.0', none),
    ('integer_or_none', '\u0661\u0662', none),
    ('integer_or_none', [1], none),
    ('integer_or_none', '1234567890123456789', none),
    ('decimal_or_none', 0.1, 0.1),
    ('decimal_or_none', 3, 3.0),
    ('decimal_or_none', '0.25', 0.25),
    ('decimal_or_none', '.5', 0.5),
    ('decimal_or_none', 0.00004, 0.00004),
    ('decimal_or_none', true, none),
    ('decimal_or_none', '1e-5', none),
    ('decimal_or_none', 'nan', none),
    ('decimal_or_none', '1234567890.5', none),
    ('plain_decimal', 0.00004, '0.00004'),
    ('plain_decimal', -0.00004, '-0.00004'),
    ('plain_decimal', 1.5e-07, '0.00000015'),
    ('plain_decimal', 1e20, '100000000000000000000'),
    ('plain_decimal', 1.25e16, '12500000000000000'),
    ('plain_decimal', 12345.678, '12345.678'),
    ('given_text', none, 'null'),
    ('given_text', true, 'true'),
    ('given_text', 0.00004, '0.00004'),
    ('given_text', 'abc', 'abc'),
    ('given_text', 7, '7'),
] %}
with

cases as (
    {%- for macro_name, given, expected in examples %}
        select
            {{ loop.index }} as case_number,
            '{{ macro_name }}' as macro_name,
            '{{ expected | tojson }}' as expected,
            '{{ context[macro_name](given) | tojson }}' as actual
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from cases
where actual <> expected
