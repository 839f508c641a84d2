{#- The run pinned by the `model_run_id` var as ASCII digits, or none when unset (''). -#}
{%- macro pinned_model_run_id() -%}
    {%- set pinned = validated_var('model_run_id') -%}
    {{ return(pinned if pinned != '' else none) }}
{%- endmacro -%}
