-- Rule: normalized_email lower-cases an address and removes whitespace, control and format
-- characters wherever they are (tab, CR LF, no-break space, zero-width space, byte-order
-- mark, ideographic space), and keeps every character an address is made of.
{%- set character = 'chr' if target.type == 'duckdb' else 'nchar' %}
{%- set examples = [
    (["'Ann.Lee+news_1-x@Example.com'"], 'ann.lee+news_1-x@example.com'),
    ([character ~ '(9)', "'ann@example.com'", character ~ '(13)', character ~ '(10)'],
        'ann@example.com'),
    ([character ~ '(160)', "'ann@example.com'", character ~ '(8203)'], 'ann@example.com'),
    (["'ann'", character ~ '(65279)', "'@example.com'"], 'ann@example.com'),
    ([character ~ '(12288)', "'ANN@EXAMPLE.COM'", character ~ '(32)'], 'ann@example.com'),
    (["'a b@c.d'"], 'ab@c.d'),
] %}
with

cases as (
    {%- for parts, expected in examples %}
        select
            {{ loop.index }} as case_number,
            {{ dbt.concat(parts) if parts | length > 1 else parts[0] }} as email_address,
            '{{ expected }}' as expected
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

checked as (
    select
        case_number,
        expected,
        {{ normalized_email('email_address') }} as actual
    from cases
)

select * from checked
where actual is null or actual <> expected
