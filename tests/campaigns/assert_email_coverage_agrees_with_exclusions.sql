-- Rule: for every segment of the campaign, the customers cluster_email_coverage counts as
-- having no e-mail address are exactly those campaign_list_exclusions leaves out as
-- `no_email_address`, and the coverage covers the same segments as the screening targets (both read
-- the screening's has_email). Returns the segments where they disagree.
with

coverage as (
    select * from {{ ref('cluster_email_coverage') }}
),

exclusions as (
    select * from {{ ref('campaign_list_exclusions') }}
),

screened_recipients as (
    select * from {{ ref('int_campaign_recipients_screened') }}
),

screened_segments as (
    select
        cluster,
        count(*) as customers
    from screened_recipients
    where is_targeted = 1
    group by cluster
),

without_address as (
    select
        cluster,
        customers
    from exclusions
    where exclusion_reason = 'no_email_address'
),

compared as (
    select
        coverage.customers_without_email,
        coverage.customers as coverage_customers,
        screened_segments.customers as screened_customers,
        coalesce(coverage.cluster, screened_segments.cluster) as segment_id,
        coalesce(without_address.customers, 0) as excluded_without_address
    from coverage
    full outer join screened_segments
        on coverage.cluster = screened_segments.cluster
    left join without_address
        on coverage.cluster = without_address.cluster
),

disagreements as (
    select
        segment_id,
        coverage_customers,
        screened_customers,
        customers_without_email,
        excluded_without_address
    from compared
    where
        coverage_customers is null
        or screened_customers is null
        or coverage_customers <> screened_customers
        or customers_without_email <> excluded_without_address
)

select * from disagreements
