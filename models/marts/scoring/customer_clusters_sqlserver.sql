-- The tutorial's cluster table on SQL Server: the result set of the tutorial's procedure
-- py_generate_customer_return_clusters (deployed from macros/sqlserver by the procedure_table
-- materialization), every customer with the stable segment id of the current model, as the
-- tutorial's `INSERT INTO py_customer_clusters EXEC ...`. The procedure recomputes the
-- features from the staging views with the feature models' macros and reads the current run
-- from the registry (the latest run that passed its quality gates); the refs below record that lineage and build order.
-- depends_on: {{ ref('customer_return_features') }}
-- depends_on: {{ ref('stg_tpcxbb__store_sales') }}
-- depends_on: {{ ref('stg_tpcxbb__store_returns') }}
-- depends_on: {{ ref('segment_model_registry_sqlserver') }}
-- The gate: int_segment_centroids_current stops the build when its training run was rejected.
-- depends_on: {{ ref('int_segment_centroids_current') }}
{%- set pinned = pinned_model_run_id() %}
exec {{ procedure_relation('py_generate_customer_return_clusters') }}
    @model_run_id = {{ pinned if pinned is not none else 'null' }}
