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

flag_checked as (
    select
        'run_passed_gates_flag' as macro_name,
        expected,
        {{ run_passed_gates_flag() }} as actual
    from cases
),

condition_checked as (
    select
        'run_passed_gates' as macro_name,
        expected,
        case when {{ run_passed_gates() }} then 1 else 0 end as actual
    from cases
),

checked as (
    select * from flag_checked
    union all
    select * from condition_checked
)

select * from checked
where actual <> expected
