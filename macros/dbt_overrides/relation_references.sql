{#- ref() and source() as dbt's, rendered without the database on DuckDB.
    dbt-duckdb names the database after the file (`segmentation`), and a view stores the name
    it was created with: a copy of the file under another name (a backup, a test copy) would
    hold views that read a database that is not attached. Without the catalog a name resolves
    in the database the view lives in. Every other target keeps dbt's three-part names. -#}
{%- macro ref() -%}
    {{ return(relation_for_reference(builtins.ref(*varargs, **kwargs))) }}
{%- endmacro -%}

{%- macro source() -%}
    {{ return(relation_for_reference(builtins.source(*varargs, **kwargs))) }}
{%- endmacro -%}

{#- Dispatched because only DuckDB's database is named after a file. -#}
{%- macro relation_for_reference(relation) -%}
    {{ return(adapter.dispatch('relation_for_reference', 'customer_segmentation')(relation)) }}
{%- endmacro -%}

{%- macro default__relation_for_reference(relation) -%}
    {{ return(relation) }}
{%- endmacro -%}

{%- macro duckdb__relation_for_reference(relation) -%}
    {{ return(relation.include(database=false)) }}
{%- endmacro -%}
