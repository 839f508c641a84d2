{#- The run id of the current model, as a SQL expression over the registry: the run pinned
    by the `model_run_id` var (roll back), else the latest training run that passed its
    quality gates. A rejected run is never current. Before anything reads it, a pinned id is
    checked to exist and to have passed, so a wrong pin stops the build with a message listing
    the runs instead of scoring against nothing or against a rejected model. -#}
{%- macro current_model_run_id(registry) -%}
    {%- set pinned = pinned_model_run_id() -%}
    {%- if pinned is none -%}
        {{ latest_passed_run_id(registry) }}
    {%- else -%}
        {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
            {%- set runs = run_query(
                'select distinct run_id, ' ~ run_passed_gates_flag() ~ ' as passed from ' ~ registry
                ~ ' order by run_id'
            ) -%}
            {%- set run_ids = runs.columns[0].values() | map('int') | list -%}
            {%- set passed_ids = [] -%}
            {%- for row in runs.rows if row[1] | int == 1 -%}
                {%- do passed_ids.append(row[0] | int) -%}
            {%- endfor -%}
            {%- if pinned | int not in run_ids -%}
                {{ exceptions.raise_compiler_error(
                    'model_run_id=' ~ pinned ~ ' is not in the model registry ' ~ registry
                    ~ ' (runs: ' ~ (run_ids | join(', ') or 'none') ~ '); nothing was changed'
                ) }}
            {%- elif pinned | int not in passed_ids -%}
                {{ exceptions.raise_compiler_error(
                    'model_run_id=' ~ pinned ~ ' was rejected by its quality gates and is never '
                    ~ 'served (see gate_failures in segment_model_runs); pin a run that passed ('
                    ~ (passed_ids | join(', ') or 'none') ~ '); nothing was changed'
                ) }}
            {%- endif -%}
        {%- endif -%}
        {{ pinned }}
    {%- endif -%}
{%- endmacro -%}

{#- The one definition of the current model when no run is pinned, as a scalar subquery: the
    latest training run of the registry that passed its quality gates (NULL when none has).
    The models (through current_model_run_id), the promotion check and the SQL Server
    procedures (which take their pin as @model_run_id) all render this macro. -#}
{%- macro latest_passed_run_id(registry) -%}
    (select max(run_id) from {{ registry }} where {{ run_passed_gates() }})
{%- endmacro -%}

{#- A boolean SQL condition on a registry row: its run passed its gates. NULL (runs recorded
    before the registry kept gate results) counts as passed; the column is a DuckDB boolean
    or a T-SQL bit, so it is compared as an integer on both. -#}
{%- macro run_passed_gates() -%}
    {{ run_passed_gates_flag() }} = 1
{%- endmacro -%}

{#- 1 when a registry row's run passed its gates, else 0 (an integer: T-SQL selects no
    boolean expressions). -#}
{%- macro run_passed_gates_flag() -%}
    coalesce(cast(passed_gates as integer), 1)
{%- endmacro -%}
