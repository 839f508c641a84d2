-- Rule: the email_is_valid macro accepts an address with exactly one '@', a '.' after it
-- with characters on both sides and no space, and rejects every other case listed here.
with

cases as (
    select
        'ann.lee@example.com' as email_address,
        1 as expected
    union all
    select 'a@b.co', 1
    union all
    select 'ann.lee@example', 0
    union all
    select 'ann.lee.example.com', 0
    union all
    select 'ann@lee@example.com', 0
    union all
    select 'ann lee@example.com', 0
    union all
    select '@example.com', 0
    union all
    select 'ann@.com', 0
    union all
    select 'ann@example.', 0
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
