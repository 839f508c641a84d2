-- The SQL Server stored procedure's text, for review: `make sqlserver-compile` writes it to
-- target/compiled/. It is deployed by `dbt run-operation
-- deploy_py_generate_customer_return_clusters --target sqlserver`, from the same macro.
{{ config(enabled=target.type == 'sqlserver') }}
{{ py_generate_customer_return_clusters_sql() }}
