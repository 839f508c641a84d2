-- The current segment model: its centroids, scaler and outlier distances, one row per
-- (segment, feature). The run pinned by the `model_run_id` var, else the latest training run
-- that passed its quality gates. Every published table reads the current model through this
-- model, so its pre-hook is the gate: a build whose training run was rejected stops here,
-- and nothing downstream (clusters, scores, lists, history) is rebuilt.
{{ config(pre_hook="{{ assert_segment_model_promoted() }}") }}

with

registry as (
    select * from {{ ref_segment_model_registry() }}
),

current_centroids as (
    select
        run_id,
        n_clusters,
        random_state,
        n_init,
        -- An integer 0/1 on every target: T-SQL has no boolean type.
        cast(scaled as integer) as scaled,
        segment_id,
        feature,
        feature_position,
        centroid_value,
        scaled_value,
        scaler_mean,
        scaler_scale,
        outlier_quantile,
        outlier_distance
    from registry
    where run_id = {{ current_model_run_id(ref_segment_model_registry()) }}
)

select * from current_centroids
