-- The current segment model: its centroids, scaler and outlier distances, one row per
-- (segment, feature). The latest training run, or the run pinned by the `model_run_id` var.
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
