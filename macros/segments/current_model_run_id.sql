{#- The run id of the current model, as a SQL expression over the registry: the run pinned
    by the `model_run_id` var (roll back), else the latest training run. Before anything
    reads it, a pinned id is checked to exist, so a wrong pin stops the build with a message
    listing the known runs instead of scoring against nothing. -#}
{%- macro current_model_run_id(registry) -%}
    {%- set pinned = pinned_model_run_id() -%}
    {%- if pinned is none -%}
        (select max(run_id) from {{ registry }})
    {%- else -%}
        {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
            {%- set runs = run_query(
                'select distinct run_id from ' ~ registry ~ ' order by run_id'
            ).columns[0].values() | map('int') | list -%}
            {%- if pinned | int not in runs -%}
                {{ exceptions.raise_compiler_error(
                    'model_run_id=' ~ pinned ~ ' is not in the model registry ' ~ registry
                    ~ ' (runs: ' ~ (runs | join(', ') or 'none') ~ '); nothing was changed'
                ) }}
            {%- endif -%}
        {%- endif -%}
        {{ pinned }}
    {%- endif -%}
{%- endmacro -%}
