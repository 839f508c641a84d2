{#- Pre-hook of int_segment_centroids_current, the model every published table reads the
    current model through: stop the build, before anything is published, when this invocation
    trained a run that its quality gates rejected, or when no run has passed them. A failing
    gate is a failing build (`dbt run` as much as `dbt build`: a model, not a test), and the
    message says which gates failed and which model stays current. -#}
{%- macro assert_segment_model_promoted() -%}
    {%- if execute and flags.WHICH in ['run', 'build'] -%}
        {%- set registry = ref_segment_model_registry() -%}
        {%- set rejected = run_query(
            'select distinct run_id, gate_failures from ' ~ registry
            ~ " where invocation_id = '" ~ invocation_id ~ "' and "
            ~ run_passed_gates_flag() ~ ' = 0 order by run_id'
        ) -%}
        {%- set current = run_query(
            'select ' ~ latest_passed_run_id(registry) ~ ' as run_id'
        ).columns[0].values()[0] -%}
        {%- set stays = 'the current model stays run ' ~ (current | int)
            if current is not none else 'no run has passed its gates yet, so there is no model' -%}
        {%- if rejected.rows | length > 0 -%}
            {%- set reasons = [] -%}
            {%- for row in rejected.rows -%}
                {%- do reasons.append('run ' ~ (row[0] | int) ~ ': ' ~ row[1]) -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                'The segment model trained by this build failed its quality gates ('
                ~ reasons | join('; ') ~ '). Nothing was published: ' ~ stays
                ~ '. The rejected run is kept in segment_model_registry (passed_gates = 0) and is'
                ~ ' never served. Change the k-means vars or the gate vars (min_segment_share,'
                ~ ' min_silhouette, max_davies_bouldin), or pin a run with model_run_id.'
            ) }}
        {%- elif current is none and pinned_model_run_id() is none -%}
            {{ exceptions.raise_compiler_error(
                'No run of the segment model has passed its quality gates, so nothing can be'
                ~ ' published; see gate_failures in ' ~ registry ~ '.'
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro -%}
