{#- The database role that may read the campaign lists (var `campaign_role`), checked before it
    reaches a GRANT statement: a plain identifier. -#}
{%- macro campaign_role() -%}
    {%- set value = var('campaign_role') | string -%}
    {%- if not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]{0,127}', value) -%}
        {{ exceptions.raise_compiler_error(
            "var campaign_role=" ~ value ~ " is not allowed: use a role name of letters, "
            ~ "digits and '_'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro -%}
