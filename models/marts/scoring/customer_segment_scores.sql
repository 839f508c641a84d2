-- In-SQL scoring, step two: every featured customer in the segment of its nearest centroid
-- (an exact tie goes to the lowest segment id, as in the Python core's predict), flagged as an
-- outlier when farther from it than the segment's stored outlier distance.
--
-- Incremental: a run takes the customers whose distances were refreshed after this table's
-- latest `refreshed_at`, and everyone when the current model (the run the distances were
-- computed with: distances re-score everyone when it changes) is not the run stored here.
{{
    config(
        materialized='incremental',
        unique_key='customer',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
with

all_segment_distances as (
    select * from {{ ref('customer_segment_distances') }}
),

{% if is_incremental() %}

-- Rows scored by another run than the current one: then every customer is taken again.
-- (The relations, not the import CTEs, are read here and below: DuckDB copies a CTE that is
-- referenced twice.)
scored_by_another_run as (
    select run_id
    from {{ this }}
    where run_id <> (select max(run_id) from {{ ref('customer_segment_distances') }})
),

{% endif %}

segment_distances as (
    select * from all_segment_distances
    {% if is_incremental() %}
        where
            refreshed_at > {{ last_refreshed_at(this) }}
            or exists (select 1 from scored_by_another_run)
    {% endif %}
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
