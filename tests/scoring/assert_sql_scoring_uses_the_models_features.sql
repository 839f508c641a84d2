-- Rule: SQL scoring (customer_segment_distances) loops over the segment_features() macro;
-- the current model must have been trained on exactly those features, in that order, or
-- the SQL distances would compare the wrong columns.
{%- set features = segment_features() %}
with

current_centroids as (
    select * from {{ ref('int_segment_centroids_current') }}
),

model_features as (
    select distinct
        feature,
        feature_position
    from current_centroids
),

expected_features as (
    {%- for feature in features %}
        select
            '{{ feature }}' as feature,
            {{ loop.index0 }} as feature_position
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

mismatches as (
    select
        model_features.feature_position as model_position,
        expected_features.feature_position as expected_position,
        coalesce(model_features.feature, expected_features.feature) as feature
    from model_features
    full outer join expected_features
        on
            model_features.feature = expected_features.feature
            and model_features.feature_position = expected_features.feature_position
    where model_features.feature is null or expected_features.feature is null
)

select * from mismatches
