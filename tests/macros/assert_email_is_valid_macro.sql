-- Rule: the email_is_valid macro accepts an address with exactly one '@', a '.' after it
-- with characters on both sides and no space, and rejects every other case listed here.
with

cases as (
    select
        examples.email_address,
        examples.expected
    from (
        values
        ('ann.lee@example.com', 1),
        ('a@b.co', 1),
        ('ann.lee@example', 0),
        ('ann.lee.example.com', 0),
        ('ann@lee@example.com', 0),
        ('ann lee@example.com', 0),
        ('@example.com', 0),
        ('ann@.com', 0),
        ('ann@example.', 0)
    ) as examples (email_address, expected)
),

checked as (
    select
        email_address,
        expected,
        case when {{ email_is_valid('email_address') }} then 1 else 0 end as actual
    from cases
)

select * from checked
where actual <> expected
