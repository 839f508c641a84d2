{#- The cluster table (`py_customer_clusters`) for downstream models, on every target.
    dbt-sqlserver runs no Python models, so there the table is filled by the stored procedure
    (model customer_clusters_sqlserver); elsewhere the Python model customer_clusters builds it.
    Each model is enabled only on its own targets (dbt_project.yml), and a ref to a disabled
    model fails at parse time, so downstream models ref the cluster table through this macro. -#}
{%- macro ref_customer_clusters() -%}
    {{ return(adapter.dispatch('ref_customer_clusters', 'customer_segmentation')()) }}
{%- endmacro -%}

{%- macro default__ref_customer_clusters() -%}
    {{ return(ref('customer_clusters')) }}
{%- endmacro -%}

{%- macro sqlserver__ref_customer_clusters() -%}
    {{ return(ref('customer_clusters_sqlserver')) }}
{%- endmacro -%}
