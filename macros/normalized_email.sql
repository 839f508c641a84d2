{#- The form in which addresses are compared (opt-outs, duplicates): trimmed, lower case.
    ltrim/rtrim rather than trim, which SQL Server has only since 2017. -#}
{%- macro normalized_email(column) -%}
    lower(ltrim(rtrim({{ column }})))
{%- endmacro -%}
