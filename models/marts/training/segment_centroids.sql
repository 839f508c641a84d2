-- Every run's centroids in long format, one row per (run, segment, feature), with the
-- segment's name, size and outlier distance: what the segment-profile plot and BI read.
with

registry as (
    select * from {{ ref_segment_model_registry() }}
),

segments as (
    select * from {{ ref('segments') }}
),

named_centroids as (
    select
        registry.run_id,
        registry.segment_id,
        segments.segment_name,
        registry.segment_size,
        registry.segment_share,
        registry.centroid_shift,
        registry.outlier_distance,
        registry.feature,
        registry.feature_position,
        registry.centroid_value,
        registry.scaled_value,
        registry.scaler_mean,
        registry.scaler_scale,
        case
            when registry.run_id = {{ current_model_run_id(ref_segment_model_registry()) }}
                then 1
            else 0
        end as is_current
    from registry
    left join segments
        on registry.segment_id = segments.segment_id
)

select * from named_centroids
