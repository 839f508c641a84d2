{#- The share of each segment held out of a campaign (var `holdout_share`), checked before it
    reaches SQL: a decimal number with 0 <= share < 1. -#}
{%- macro holdout_share() -%}
    {%- set value = var('holdout_share') | string -%}
    {%- if not modules.re.fullmatch('0|0?\\.[0-9]+|0\\.', value) -%}
        {{ exceptions.raise_compiler_error(
            "var holdout_share=" ~ value ~ " is not allowed: use a decimal number with "
            ~ "0 <= holdout_share < 1, e.g. 0.1"
        ) }}
    {%- endif -%}
    {{ return(value | float) }}
{%- endmacro -%}
