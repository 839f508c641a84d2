-- Rule: unordered_fingerprint gives the same text for the same rows in any order, and
-- another text when a value changes, a value becomes NULL or empty, values swap columns or
-- a row repeats instead of another. Each pair of example sets is expected to agree or not.
with

example_rows as (
    select
        examples.set_id,
        examples.customer_key,
        examples.address
    from (
        values
        (1, 1, 'a@x.org'), (1, 2, 'b@x.org'), (1, 3, null),
        (2, 3, null), (2, 2, 'b@x.org'), (2, 1, 'a@x.org'),
        (3, 1, 'a@x.org'), (3, 2, 'c@x.org'), (3, 3, null),
        (4, 1, 'a@x.org'), (4, 2, 'b@x.org'), (4, 3, ''),
        (5, 1, 'b@x.org'), (5, 2, 'a@x.org'), (5, 3, null),
        (6, 1, 'a@x.org'), (6, 1, 'a@x.org'), (6, 2, 'b@x.org'),
        (7, 1, 'a@x.org'), (7, 2, 'b@x.org'), (7, 2, 'b@x.org')
    ) as examples (set_id, customer_key, address)
),

fingerprints as (
    select
        set_id,
        {{ unordered_fingerprint(['customer_key', 'address']) }} as fingerprint
    from example_rows
    group by set_id
),

expectations as (
    select
        expected.left_set,
        expected.right_set,
        expected.same
    from (
        values
        (1, 2, 1),
        (1, 3, 0),
        (1, 4, 0),
        (1, 5, 0),
        (6, 7, 0)
    ) as expected (left_set, right_set, same)
),

checked as (
    select
        expectations.left_set,
        expectations.right_set,
        expectations.same as expected,
        case when left_print.fingerprint = right_print.fingerprint then 1 else 0 end as actual
    from expectations
    inner join fingerprints as left_print on expectations.left_set = left_print.set_id
    inner join fingerprints as right_print on expectations.right_set = right_print.set_id
)

select * from checked
where actual <> expected
