-- Rule: has_address_character holds when the text has at least one of a-z, 0-9, '@', '.',
-- '_', '+', '-' (the characters of a listed address), and not for text made only of others.
with

cases as (
    select
        examples.text_value,
        examples.expected
    from (
        values
        ('ann', 1),
        ('7', 1),
        ('@', 1),
        ('.', 1),
        ('_', 1),
        ('+', 1),
        ('-', 1),
        ('  !', 0),
        ('#$%&*', 0),
        ('[]', 0),
        ('', 0)
    ) as examples (text_value, expected)
),

checked as (
    select
        text_value,
        expected,
        case when {{ has_address_character('text_value') }} then 1 else 0 end as actual
    from cases
)

select * from checked
where actual <> expected
