-- The SQL Server stored procedures' text, for review: `make sqlserver-compile` writes it to
-- target/sqlserver/compiled/. A build deploys each procedure before calling it;
-- `make sqlserver-deploy` (dbt run-operation deploy_segment_model_procedures) deploys them
-- for apps without building. The tutorial's procedure apps call:
{{ config(enabled=target.type == 'sqlserver') }}
{{ py_generate_customer_return_clusters_sql() }}
