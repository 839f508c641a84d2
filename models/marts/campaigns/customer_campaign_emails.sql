{{ config(schema='pii', grants=campaign_list_grants()) }}
-- The campaign e-mail list of every segment (cluster), one row per customer to mail: the
-- tutorial's last query ("customers in cluster 0") for all clusters at once, for BI tools and
-- mailers to filter on `cluster`. Left out, and counted in campaign_list_exclusions: customers
-- without an address, opted out, with an invalid or shared address; the campaign's holdout
-- is in campaign_holdout.
with

screened_recipients as (
    select * from {{ ref('int_campaign_recipients_screened') }}
),

customers_to_mail as (
    select
        cluster,
        customer_sk as c_customer_sk,
        email_address as c_email_address,
        campaign_name,
        model_run_id
    from screened_recipients
    where
        is_targeted = 1
        and exclusion_reason is null
        and is_holdout = 0
)

select * from customers_to_mail
