-- How many customers of each of the campaign's segments the campaign can reach: the
-- customers, those with an e-mail address and those left out for want of one. It counts the
-- screening's `has_email`, the column the `no_email_address` exclusion is read from,
-- so with `campaign_segments` set both cover the same segments and agree on every one.
with

screened_recipients as (
    select * from {{ ref('int_campaign_recipients_screened') }}
),

coverage as (
    select
        cluster,
        count(*) as customers,
        count(case when has_email = 1 then 1 end) as customers_with_email,
        count(case when has_email = 0 then 1 end) as customers_without_email
    from screened_recipients
    where is_targeted = 1
    group by cluster
)

select * from coverage
