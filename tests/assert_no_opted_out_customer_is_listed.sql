-- Rule: a customer who opted out (by key or by address) is on no list: not to mail, not in
-- the holdout, and not in today's snapshot of the history.
with

email_opt_outs as (
    select * from {{ ref('email_opt_outs') }}
),

send_list as (
    select * from {{ ref('customer_campaign_emails') }}
),

holdout_list as (
    select * from {{ ref('campaign_holdout') }}
),

listed as (
    select
        c_customer_sk,
        c_email_address,
        'customer_campaign_emails' as list_model
    from send_list
    union all
    select
        c_customer_sk,
        c_email_address,
        'campaign_holdout' as list_model
    from holdout_list
),

opted_out_but_listed as (
    select
        listed.list_model,
        listed.c_customer_sk
    from listed
    inner join email_opt_outs
        on
            listed.c_customer_sk = email_opt_outs.customer_sk
            or {{ normalized_email('listed.c_email_address') }}
            = {{ normalized_email('email_opt_outs.email_address') }}
)

select * from opted_out_but_listed
