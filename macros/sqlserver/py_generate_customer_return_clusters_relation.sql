{#- The tutorial's procedure name, in the target's schema (dbo by default), quoted for T-SQL. -#}
{%- macro py_generate_customer_return_clusters_relation() -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema=target.schema,
        identifier='py_generate_customer_return_clusters',
    ).include(database=false)) }}
{%- endmacro -%}
