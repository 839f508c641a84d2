{#- The model registry for SQL models, on every target. The Python model
    segment_model_registry trains and writes it where the adapter runs Python; dbt-sqlserver
    runs none, so there SQL scoring reads a copy of the registry table declared as the source
    segment_model.segment_model_registry (README, "SQL Server"). -#}
{%- macro ref_segment_model_registry() -%}
    {{ return(adapter.dispatch('ref_segment_model_registry', 'customer_segmentation')()) }}
{%- endmacro -%}

{%- macro default__ref_segment_model_registry() -%}
    {{ return(ref('segment_model_registry')) }}
{%- endmacro -%}

{%- macro sqlserver__ref_segment_model_registry() -%}
    {{ return(source('segment_model', 'segment_model_registry')) }}
{%- endmacro -%}
