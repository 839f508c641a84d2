{% snapshot campaign_list_history %}
{{
    config(
        schema='pii',
        unique_key=['campaign_name', 'list_name', 'c_customer_sk'],
        strategy='check',
        check_cols=['cluster', 'c_email_address', 'model_run_id'],
        hard_deletes='invalidate',
        snapshot_meta_column_names={
            'dbt_valid_from': 'valid_from',
            'dbt_valid_to': 'valid_to',
        },
        grants=campaign_list_grants(),
    )
}}
-- The published lists' history, SCD type 2: one row per (campaign, list, customer) and
-- stretch of time during which the customer was on that list with the same segment, address
-- and model run. A build whose lists are unchanged adds nothing; a customer who joins a list
-- opens a row, one who leaves it closes its row (hard_deletes), one whose segment, address or
-- model run changes closes one and opens another. Downstream of the lists, so a failed gate
-- or test, which skips them, records nothing. Text has explicit lengths: dbt's string is
-- varchar(max) on SQL Server.
with

send_list as (
    select * from {{ ref('customer_campaign_emails') }}
),

holdout_list as (
    select * from {{ ref('campaign_holdout') }}
),

screened_recipients as (
    select * from {{ ref('int_campaign_recipients_screened') }}
),

published as (
    select
        campaign_name,
        cast('send' as varchar(7)) as list_name,
        c_customer_sk,
        cluster,
        c_email_address
    from send_list
    union all
    select
        campaign_name,
        cast('holdout' as varchar(7)) as list_name,
        c_customer_sk,
        cluster,
        c_email_address
    from holdout_list
),

-- The model run the lists came from: the screening table they were built from records it.
stamped as (
    select
        published.campaign_name,
        published.list_name,
        published.c_customer_sk,
        published.cluster,
        published.c_email_address,
        screened_recipients.model_run_id
    from published
    inner join screened_recipients
        on published.c_customer_sk = screened_recipients.customer_sk
)

select * from stamped
{% endsnapshot %}
