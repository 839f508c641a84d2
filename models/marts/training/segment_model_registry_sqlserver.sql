-- The model registry on SQL Server (alias segment_model_registry): the rows the training
-- procedure py_train_customer_segment_model returns are appended, as the Python model
-- segment_model_registry appends them on DuckDB: the same core, retrain policy, id matching
-- against the current run and quality metrics, run in Machine Learning Services. The
-- procedure reads the current run from this table itself; with model_run_id pinned it checks
-- the run exists and trains nothing.
-- depends_on: {{ ref('customer_return_features') }}
exec {{ procedure_relation('py_train_customer_segment_model') }}
    {{ segment_model_procedure_args() }}
