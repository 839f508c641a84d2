{#- Run in on-run-start: check the vars of the segment model's retrain policy (`retrain`,
    `retrain_after_days`, `max_fit_drift`), so a bad value stops the invocation before any
    node runs. customer_segmentation.registry.RetrainPolicy checks them again in Python. -#}
{%- macro validate_retrain_vars() -%}
    {%- set retrain = var('retrain') -%}
    {%- if not (retrain is sameas true or retrain is sameas false
        or (retrain is string and retrain | trim | lower in ['true', 'false'])) -%}
        {{ exceptions.raise_compiler_error(
            "var retrain=" ~ retrain ~ " is not allowed: use true or false"
        ) }}
    {%- endif -%}
    {%- for name, example in [
        ('retrain_after_days', 'e.g. 7 (0 = every build)'),
        ('max_fit_drift', 'e.g. 0.1 (= +10 %)'),
    ] -%}
        {%- set value = var(name) -%}
        {%- if not modules.re.fullmatch('[0-9]+(\\.[0-9]*)?|\\.[0-9]+', value | string | trim) -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ name ~ "=" ~ value ~ " is not allowed: use a number >= 0, " ~ example
            ) }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro -%}
