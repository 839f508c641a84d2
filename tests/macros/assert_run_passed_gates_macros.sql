-- Rule: a registry row's run passed its gates when passed_gates is true, or NULL (runs
-- recorded before gates were kept); run_passed_gates_flag is then 1, else 0, and
-- run_passed_gates is the same as a condition.
with

cases as (
    select
        cast(examples.passed_gates as {{ dbt.type_boolean() }}) as passed_gates,
        examples.expected
    from (
        values
        (1, 1),
        (0, 0),
        (null, 1)
    ) as examples (passed_gates, expected)
),

checked as (
    select
        expected,
        {{ run_passed_gates_flag() }} as actual_flag,
        case when {{ run_passed_gates() }} then 1 else 0 end as actual_condition
    from cases
)

select * from checked
where actual_flag <> expected or actual_condition <> expected
