{{ config(schema='pii', grants=campaign_list_grants()) }}
-- The campaign's holdout: mailable customers deliberately not mailed, so the campaign's
-- uplift can be measured against them. Membership is a hash of customer key and campaign
-- name: the same customers every run, whatever segment a retrain puts them in.
with

screened_recipients as (
    select * from {{ ref('int_campaign_recipients_screened') }}
),

held_out_customers as (
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
        and is_holdout = 1
)

select * from held_out_customers
