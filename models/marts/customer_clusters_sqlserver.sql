-- The tutorial's cluster table on SQL Server: the stored procedure's result set, as the
-- tutorial's `INSERT INTO py_customer_clusters EXEC ...`, replacing the table's rows in one
-- transaction (the procedure_table materialization). The procedure computes the features from the staging views with the
-- macros the feature models use; the ref below records that lineage and build order.
-- depends_on: {{ ref('customer_return_features') }}
exec {{ py_generate_customer_return_clusters_relation() }}
