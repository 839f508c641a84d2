{#- run-operation: create or alter the tutorial's stored procedure on the SQL Server target.
    `CREATE PROCEDURE` must be the first statement of its batch and pyodbc knows no `GO`, so
    the procedure is sent alone, as its own statement. Run it before `dbt build`, and again
    after changing the clustering code or the vars n_clusters, random_state, n_init. -#}
{%- macro deploy_py_generate_customer_return_clusters() -%}
    {%- if target.type != 'sqlserver' -%}
        {{ exceptions.raise_compiler_error(
            'deploy_py_generate_customer_return_clusters creates a SQL Server procedure; target '
            ~ target.name ~ ' is ' ~ target.type ~ '. Use --target sqlserver.'
        ) }}
    {%- endif -%}
    {%- set procedure = py_generate_customer_return_clusters_relation() -%}
    {%- do adapter.create_schema(api.Relation.create(
        database=target.database, schema=target.schema
    )) -%}
    {%- call statement('deploy_procedure', fetch_result=false, auto_begin=false) -%}
        {{ py_generate_customer_return_clusters_sql() }}
    {%- endcall -%}
    {%- do log('Deployed procedure ' ~ procedure ~ ' in database ' ~ target.database, info=true) -%}
{%- endmacro -%}
