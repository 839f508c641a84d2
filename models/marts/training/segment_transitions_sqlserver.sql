-- Customers moved between segments by the latest retrain, on SQL Server (alias
-- segment_transitions): the procedure py_segment_transitions scores every featured customer
-- with the previous and the latest run that passed its gates (the core's predict) and counts the pairs, once per
-- run, as the Python model segment_transitions does on DuckDB.
-- depends_on: {{ ref('customer_return_features') }}
-- depends_on: {{ ref('segment_model_registry_sqlserver') }}
exec {{ procedure_relation('py_segment_transitions') }}
