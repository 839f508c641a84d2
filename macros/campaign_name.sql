{#- The campaign name (var `campaign_name`), checked before it reaches SQL as a string literal
    and a hash input: letters, digits, spaces, '_' and '-' only, so no quote or ';' can get in. -#}
{%- macro campaign_name() -%}
    {%- set value = var('campaign_name') | string -%}
    {%- if not modules.re.fullmatch('[A-Za-z0-9_ -]{1,100}', value) -%}
        {{ exceptions.raise_compiler_error(
            "var campaign_name=" ~ value ~ " is not allowed: use 1 to 100 letters, digits, "
            ~ "spaces, '_' or '-'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro -%}
