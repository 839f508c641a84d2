{#- The features the segment model is trained on, in the order the Python core sees them:
    customer_segmentation.core.features.FEATURE_COLUMNS, the one list, written into the
    generated macro file by `make venv`. SQL scoring adds the squared differences in this
    order, so it repeats the core's arithmetic exactly. -#}
{%- macro segment_features() -%}
    {%- if generated_segment_features is not defined -%}
        {{ exceptions.raise_compiler_error(generated_macros_missing()) }}
    {%- endif -%}
    {{ return(generated_segment_features()) }}
{%- endmacro -%}
