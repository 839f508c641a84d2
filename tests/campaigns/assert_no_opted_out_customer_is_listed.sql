-- Rule: a customer who opted out, by key or by address, is on no list: not to mail, not in
-- the holdout, and not on the campaign's lists as the history has them now (its open rows).
-- An opt-out names a listed address when, lower-cased, it contains the address and nothing
-- else that can be part of an address (has_address_character): whatever surrounds it (tabs,
-- line breaks, no-break or zero-width spaces, ...) does not make it another address.
-- Deliberately not normalized_email, the macro this checks: a character it fails to remove
-- around an opted-out address makes this test fail.
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

history as (
    select * from {{ ref('campaign_list_history') }}
),

current_history as (
    select
        c_customer_sk,
        c_email_address
    from history
    where
        campaign_name = '{{ campaign_name() }}'
        and valid_to is null
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
    union all
    select
        c_customer_sk,
        c_email_address,
        'campaign_list_history' as list_model
    from current_history
),

opted_out_but_listed as (
    select
        listed.list_model,
        listed.c_customer_sk,
        email_opt_outs.opted_out_at
    from listed
    inner join email_opt_outs
        on
            listed.c_customer_sk = email_opt_outs.customer_sk
            or (
                {{ dbt.position(
                    'lower(listed.c_email_address)', 'lower(email_opt_outs.email_address)'
                ) }} > 0
                and not {{ has_address_character(dbt.replace(
                    'lower(email_opt_outs.email_address)', 'lower(listed.c_email_address)', "''"
                )) }}
            )
)

select * from opted_out_but_listed
