-- Every clustered customer with the name, description and campaign of its segment, and how
-- typical it is of the segment (distance to the centroid, outlier flag), for BI tools.
-- Published only when SQL scoring and the cluster table agree on every customer.
--
-- Incremental: a run republishes the customers whose scores were refreshed after this
-- table's latest `refreshed_at`, and everyone when a published row no longer matches the
-- current run and the `segments` seed (a retrain, a roll back, a renamed segment or a new
-- campaign in the seed, which every `dbt build` reloads). The current run is the scores' (they
-- re-score everyone when it changes).
{{
    config(
        materialized='incremental',
        unique_key='customer',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ assert_sql_scoring_agrees() }}",
    )
}}
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

{% if is_incremental() %}

-- What the published rows say about each segment, less what the current run and the seed
-- say: any row left is out of date. EXCEPT compares NULLs as equal, so the test is exact.
published_segments_out_of_date as (
    select distinct
        run_id,
        segment_id,
        segment_name,
        segment_description,
        campaign
    from {{ this }}
    except
    select
        (select max(run_id) from {{ ref('customer_segment_scores') }}) as run_id,
        segment_id,
        segment_name,
        segment_description,
        campaign
    from segments
),

-- The relation, not the import CTE: DuckDB copies a CTE that is referenced twice.
customers_to_publish as (
    select customer
    from {{ ref('customer_segment_scores') }}
    where
        refreshed_at > {{ last_refreshed_at(this) }}
        or exists (select 1 from published_segments_out_of_date)
),

{% endif %}

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
        segment_scores.is_outlier,
        {{ build_stamp() }} as refreshed_at
    from customer_clusters
    {% if is_incremental() %}
        inner join customers_to_publish
            on customer_clusters.Customer = customers_to_publish.customer
    {% endif %}
    left join segments
        on customer_clusters.cluster = segments.segment_id
    left join segment_scores
        on customer_clusters.Customer = segment_scores.customer
)

select * from named_segments
