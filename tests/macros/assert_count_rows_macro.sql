-- Rule: count_rows() counts every row, count_rows(condition) the rows where the condition
-- holds (NULL is not true), and both are 8-byte integers (summed past 2^31 without error).
with

numbers as (
    select examples.n
    from (
        values
        (1),
        (2),
        (3),
        (null)
    ) as examples (n)
),

counted as (
    select
        {{ count_rows() }} as all_rows,
        {{ count_rows('n >= 2') }} as at_least_two,
        {{ count_rows('n > 9') }} as above_nine,
        {{ count_rows() }} + 2147483647 as past_int_range
    from numbers
),

expected as (
    select
        4 as all_rows,
        2 as at_least_two,
        0 as above_nine,
        cast(2147483651 as bigint) as past_int_range
),

mismatches as (
    select
        counted.all_rows,
        counted.at_least_two,
        counted.above_nine,
        counted.past_int_range
    from counted
    cross join expected
    where
        counted.all_rows <> expected.all_rows
        or counted.at_least_two <> expected.at_least_two
        or counted.above_nine <> expected.above_nine
        or counted.past_int_range <> expected.past_int_range
)

select * from mismatches
