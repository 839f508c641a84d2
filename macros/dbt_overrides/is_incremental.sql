{#- dbt's is_incremental(), except that it answers false when dbt may not query the database
    (`dbt compile --no-introspect`, as the SQL Server target is proven without a server): the
    built-in asks the database whether the table exists, which fails there. Such a compile
    shows the full-refresh SQL; every run and build decides as dbt always does. -#}
{%- macro is_incremental() -%}
    {%- if execute and not flags.INTROSPECT -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{%- endmacro -%}
