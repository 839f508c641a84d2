{#- The run id of the current model, as a SQL expression over the registry: the run pinned
    by the `model_run_id` var (roll back), else the latest training run. Before anything
    reads it, a pinned id is checked to exist, so a wrong pin stops the build with a message
    instead of scoring against nothing. -#}
{%- macro current_model_run_id(registry) -%}
    {%- set pinned = var('model_run_id', '') | string | trim -%}
    {%- if pinned in ['', 'None', 'none'] -%}
        (select max(run_id) from {{ registry }})
    {%- else -%}
        {%- if not pinned.isdigit() -%}
            {{ exceptions.raise_compiler_error(
                'model_run_id must be a positive integer run id, got ' ~ pinned
            ) }}
        {%- endif -%}
        {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
            {%- set found = run_query(
                'select count(*) from ' ~ registry ~ ' where run_id = ' ~ pinned
            ).columns[0].values()[0] -%}
            {%- if found == 0 -%}
                {{ exceptions.raise_compiler_error(
                    'model_run_id=' ~ pinned ~ ' is not in the model registry ' ~ registry
                    ~ '; nothing was changed. See segment_model_runs for the run ids.'
                ) }}
            {%- endif -%}
        {%- endif -%}
        {{ pinned }}
    {%- endif -%}
{%- endmacro -%}
