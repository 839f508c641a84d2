{#- The form in which addresses are compared (opt-outs, duplicates): trimmed, lower case.
    Customers' addresses arrive trimmed from staging; the opt-out seed's come as typed.
    ltrim/rtrim rather than trim, which SQL Server has only since 2017. -#}
{%- macro normalized_email(column) -%}
    lower(ltrim(rtrim({{ column }})))
{%- endmacro -%}
