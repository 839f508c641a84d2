{#- The model registry for SQL models, on every target: the Python model
    segment_model_registry where the adapter runs Python, the procedure-filled
    segment_model_registry_sqlserver on SQL Server (both aliased segment_model_registry).
    Each is enabled on its own targets only, and a ref to a disabled model fails at parse time,
    so SQL models ref the registry through this macro. -#}
{%- macro ref_segment_model_registry() -%}
    {{ return(adapter.dispatch('ref_segment_model_registry', 'customer_segmentation')()) }}
{%- endmacro -%}

{%- macro default__ref_segment_model_registry() -%}
    {{ return(ref('segment_model_registry')) }}
{%- endmacro -%}

{%- macro sqlserver__ref_segment_model_registry() -%}
    {{ return(ref('segment_model_registry_sqlserver')) }}
{%- endmacro -%}
