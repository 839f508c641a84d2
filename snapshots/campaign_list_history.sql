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

published as (
    select
        campaign_name,
        cast('send' as varchar(7)) as list_name,
        c_customer_sk,
        cluster,
        c_email_address,
        model_run_id
    from send_list
    union all
    select
        campaign_name,
        cast('holdout' as varchar(7)) as list_name,
        c_customer_sk,
        cluster,
        c_email_address,
        model_run_id
    from holdout_list
)

select * from published
{% endsnapshot %}
