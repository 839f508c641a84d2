-- One row per training run of the segment model, for BI: when it ran, with which settings,
-- on how many customers, how good it is, whether it passed its quality gates, and whether it
-- is the current model.
with

registry as (
    select * from {{ ref_segment_model_registry() }}
),

runs as (
    select distinct
        run_id,
        trained_at,
        invocation_id,
        previous_run_id,
        train_reason,
        n_clusters,
        random_state,
        n_init,
        scaled,
        features,
        training_rows,
        inertia,
        silhouette,
        silhouette_sample_size,
        davies_bouldin,
        outlier_quantile,
        python_version,
        pandas_version,
        numpy_version,
        sklearn_version,
        {{ run_passed_gates_flag() }} as passed_gates,
        gate_failures
    from registry
),

flagged_runs as (
    select
        runs.run_id,
        runs.trained_at,
        runs.invocation_id,
        runs.previous_run_id,
        runs.train_reason,
        runs.n_clusters,
        runs.random_state,
        runs.n_init,
        runs.scaled,
        runs.features,
        runs.training_rows,
        runs.inertia,
        runs.silhouette,
        runs.silhouette_sample_size,
        runs.davies_bouldin,
        runs.outlier_quantile,
        runs.python_version,
        runs.pandas_version,
        runs.numpy_version,
        runs.sklearn_version,
        runs.passed_gates,
        runs.gate_failures,
        case
            when runs.run_id = {{ current_model_run_id(ref_segment_model_registry()) }}
                then 1
            else 0
        end as is_current
    from runs
)

select * from flagged_runs
