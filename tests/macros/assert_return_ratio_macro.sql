-- Rule: return_ratio is returned / ordered in double precision rounded to 7 places, and 0
-- where nothing was ordered (0 or NULL) or nothing returned (NULL), on every target.
with

cases as (
    select
        examples.returned,
        examples.ordered,
        examples.expected
    from (
        values
        (1, 4, 0.25),
        (1, 3, 0.3333333),
        (2, 3, 0.6666667),
        (5, 7, 0.7142857),
        (12.34, 56.78, 0.21733),
        (3, 3, 1.0),
        (0, 5, 0.0),
        (4, 0, 0.0),
        (null, 5, 0.0),
        (4, null, 0.0),
        (null, null, 0.0)
    ) as examples (returned, ordered, expected)
),

checked as (
    select
        returned,
        ordered,
        expected,
        {{ return_ratio('returned', 'ordered') }} as actual
    from cases
)

select * from checked
where actual is null or actual <> expected
