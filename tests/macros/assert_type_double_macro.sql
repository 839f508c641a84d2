-- Rule: type_double names an 8-byte float on every target: it holds 2^24 + 1 exactly and
-- 1/3 to 15 places, which a 4-byte float (DuckDB's `float`) cannot.
with

cases as (
    select
        examples.numerator,
        examples.denominator,
        examples.expected
    from (
        values
        (16777217, 1, 16777217),
        (1, 3, 0.333333333333333),
        (2, 3, 0.666666666666667)
    ) as examples (numerator, denominator, expected)
),

checked as (
    select
        numerator,
        denominator,
        expected,
        cast(numerator as {{ type_double() }})
        / cast(denominator as {{ type_double() }}) as actual
    from cases
)

select * from checked
where abs(actual - expected) >= 0.000000000000001
