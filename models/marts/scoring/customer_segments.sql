-- Every clustered customer with the name, description and campaign of its segment, and how
-- typical it is of the segment (distance to the centroid, outlier flag), for BI tools.
-- Published only when SQL scoring and the cluster table agree on every customer.
{{ config(pre_hook="{{ assert_sql_scoring_agrees() }}") }}
with

customer_clusters as (
    select * from {{ ref_customer_clusters() }}
),

segment_scores as (
    select * from {{ ref('customer_segment_scores') }}
),

segments as (
    select * from {{ ref('segments') }}
),

named_segments as (
    select
        -- Customer is the tutorial's spelling of the key.
        customer_clusters.Customer as customer,  -- noqa: AL09
        customer_clusters.cluster as segment_id,
        segments.segment_name,
        segments.segment_description,
        segments.campaign,
        segment_scores.run_id,
        segment_scores.distance,
        segment_scores.is_outlier
    from customer_clusters
    left join segments
        on customer_clusters.cluster = segments.segment_id
    left join segment_scores
        on customer_clusters.Customer = segment_scores.customer
)

select * from named_segments
