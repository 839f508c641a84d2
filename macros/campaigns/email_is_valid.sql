{#- A boolean SQL condition: the address has exactly one '@', at least one character before
    it, a '.' after it with characters on both sides, and no space. `like` and replace/length
    behave alike on DuckDB and SQL Server (T-SQL has no regular expressions). -#}
{%- macro email_is_valid(column) -%}
    (
        {{ column }} like '_%@_%._%'
        and {{ column }} not like '% %'
        and {{ dbt.length(column) }}
        - {{ dbt.length(dbt.replace(column, "'@'", "''")) }} = 1
    )
{%- endmacro -%}
