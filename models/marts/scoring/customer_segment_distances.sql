-- In-SQL scoring, step one: every featured customer's distance to every centroid of the
-- current model, in the space k-means ran in (features standardised with the stored mean and
-- scale when the model scales; the stored scaler is 0 and 1 otherwise). Plain SQL, no Python
-- at scoring time, so databases without ML Services can score customers the model never saw.
--
-- Incremental: a run re-scores the customers whose features were refreshed after this
-- table's latest `refreshed_at`, and everyone when the current model is not the run stored
-- here (a retrain, a pinned roll back, a newly promoted run). A customer's k rows are replaced
-- together (delete+insert on customer).
{{
    config(
        materialized='incremental',
        unique_key='customer',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{%- set features = segment_features() %}
with

all_features as (
    select * from {{ ref('customer_return_features') }}
),

current_centroids as (
    select * from {{ ref('int_segment_centroids_current') }}
),

{% if is_incremental() %}

-- Rows scored by another run than the current one: then every customer is re-scored.
scored_by_another_run as (
    select run_id
    from {{ this }}
    where run_id <> (select max(run_id) from current_centroids)
),

{% endif %}

features as (
    select * from all_features
    {% if is_incremental() %}
        where
            refreshed_at > {{ last_refreshed_at(this) }}
            or exists (select 1 from scored_by_another_run)
    {% endif %}
),

segment_centroids as (
    select
        run_id,
        segment_id,
        outlier_distance,
    {%- for feature in features %}
        max(case when feature = '{{ feature }}' then scaled_value end)
            as centroid_{{ loop.index0 }},
        max(case when feature = '{{ feature }}' then scaler_mean end) as mean_{{ loop.index0 }},
        max(case when feature = '{{ feature }}' then scaler_scale end) as scale_{{ loop.index0 }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from current_centroids
    group by
        run_id,
        segment_id,
        outlier_distance
),

differences as (
    select
        features.customer,
        segment_centroids.run_id,
        segment_centroids.segment_id,
        segment_centroids.outlier_distance,
    {%- for feature in features %}
        (features.{{ feature }} - segment_centroids.mean_{{ loop.index0 }})
        / segment_centroids.scale_{{ loop.index0 }}
        - segment_centroids.centroid_{{ loop.index0 }} as difference_{{ loop.index0 }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from features
    cross join segment_centroids
),

squared_distances as (
    select
        customer,
        run_id,
        segment_id,
        outlier_distance,
        -- Summed left to right in the core's feature order: the same float arithmetic as
        -- CustomerReturnClusterer.squared_distances, so ties and near-ties resolve alike.
        {% for feature in features -%}
            difference_{{ loop.index0 }} * difference_{{ loop.index0 }}
            {%- if not loop.last %} + {% endif %}
        {%- endfor %} as squared_distance
    from differences
),

ranked_distances as (
    select
        customer,
        run_id,
        segment_id,
        squared_distance,
        outlier_distance,
        sqrt(squared_distance) as distance,
        row_number() over (
            partition by customer
            order by squared_distance, segment_id
        ) as distance_rank,
        {{ build_stamp() }} as refreshed_at
    from squared_distances
)

select * from ranked_distances
