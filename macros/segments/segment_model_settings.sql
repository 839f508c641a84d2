{#- The segment model's dbt vars as T-SQL literals, each checked by type and range first, so
    that no var reaches a procedure's text or call unchecked: a bad value stops the
    invocation with a message naming the var. customer_segmentation.clustering.KMeansParams
    and registry.RetrainPolicy check the same vars again where Python receives them. -#}
{%- macro segment_model_settings() -%}
    {%- set settings = {} -%}
    {%- for name, minimum in [
        ('n_clusters', 1), ('random_state', 0), ('n_init', 1), ('silhouette_sample_size', 2)
    ] -%}
        {%- set value = var(name) | string | trim -%}
        {%- if not modules.re.fullmatch('[0-9]{1,9}', value) or value | int < minimum -%}
            {{ exceptions.raise_compiler_error(
                'var ' ~ name ~ '=' ~ value ~ ' is not allowed: use an integer >= ' ~ minimum
            ) }}
        {%- endif -%}
        {%- do settings.update({name: value | int}) -%}
    {%- endfor -%}
    {%- for name in ['scale_features', 'retrain'] -%}
        {%- set value = var(name) -%}
        {%- set text = value | string | trim | lower -%}
        {%- if text not in ['true', 'false'] -%}
            {{ exceptions.raise_compiler_error(
                'var ' ~ name ~ '=' ~ value ~ ' is not allowed: use true or false'
            ) }}
        {%- endif -%}
        {%- do settings.update({name: 1 if text == 'true' else 0}) -%}
    {%- endfor -%}
    {%- for name, upper in [
        ('retrain_after_days', none), ('max_fit_drift', none), ('outlier_quantile', 1)
    ] -%}
        {%- set value = var(name) | string | trim -%}
        {%- set valid = modules.re.fullmatch('[0-9]{1,9}(\\.[0-9]{1,15})?', value) -%}
        {%- if not valid or (upper is not none and (value | float <= 0 or value | float > upper)) -%}
            {{ exceptions.raise_compiler_error(
                'var ' ~ name ~ '=' ~ value ~ ' is not allowed: use a number >= 0'
                ~ (' in (0, ' ~ upper ~ ']' if upper is not none else '')
            ) }}
        {%- endif -%}
        {%- do settings.update({name: value}) -%}
    {%- endfor -%}
    {{ return(settings) }}
{%- endmacro -%}

{#- The run pinned by the `model_run_id` var as digits, or none when unset ('' or none). -#}
{%- macro pinned_model_run_id() -%}
    {%- set pinned = var('model_run_id', '') | string | trim -%}
    {%- if pinned | lower in ['', 'none', 'null'] -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{1,18}', pinned) -%}
        {{ exceptions.raise_compiler_error(
            'model_run_id must be a positive integer run id, got ' ~ pinned
        ) }}
    {%- endif -%}
    {{ return(pinned) }}
{%- endmacro -%}

{#- on-run-start: every segment-model var checked before any node runs, on every target. -#}
{%- macro validate_segment_model_vars() -%}
    {%- do segment_model_settings() -%}
    {%- do pinned_model_run_id() -%}
{%- endmacro -%}
