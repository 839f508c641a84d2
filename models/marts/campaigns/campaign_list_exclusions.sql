-- Per campaign, segment and reason: how many clustered customers the lists leave out.
with

screened_recipients as (
    select * from {{ ref('int_campaign_recipients_screened') }}
),

exclusions as (
    select
        campaign_name,
        cluster,
        exclusion_reason,
        count(*) as customers
    from screened_recipients
    where
        is_targeted = 1
        and exclusion_reason is not null
    group by
        campaign_name,
        cluster,
        exclusion_reason
)

select * from exclusions
