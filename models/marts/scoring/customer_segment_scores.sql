-- In-SQL scoring, step two: every featured customer in the segment of its nearest centroid
-- (an exact tie goes to the lowest segment id, as in the Python core's predict), flagged as an
-- outlier when farther from it than the segment's stored outlier distance.
with

segment_distances as (
    select * from {{ ref('customer_segment_distances') }}
),

nearest_segments as (
    select
        customer,
        run_id,
        segment_id,
        distance,
        outlier_distance,
        case when distance > outlier_distance then 1 else 0 end as is_outlier,
        {{ build_stamp() }} as refreshed_at
    from segment_distances
    where distance_rank = 1
)

select * from nearest_segments
