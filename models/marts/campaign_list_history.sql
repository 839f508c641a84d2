{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='snapshot_id',
        full_refresh=false,
        schema='pii',
        grants=campaign_list_grants(),
    )
}}
-- Every published list, kept: one dated snapshot per campaign and day of the send list and
-- the holdout, stamped with the clustering it came from, so "who received campaign X" has an
-- answer after the next retrain. A second build on the same day replaces that day's snapshot
-- of the campaign (delete+insert on the day and campaign) instead of adding to it;
-- full_refresh=false keeps --full-refresh from wiping the history. The key is one column:
-- with two, dbt's delete+insert joins every stored row of the day to every new one (90,000 x
-- 90,000 at sf=1, 87 s measured); one column becomes an `in (select ...)` semi-join.
-- Text columns have explicit lengths: dbt's type_string is varchar(max) on SQL Server.
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
        cluster,
        c_customer_sk,
        c_email_address,
        cast('send' as varchar(7)) as list_name
    from send_list
    union all
    select
        campaign_name,
        cluster,
        c_customer_sk,
        c_email_address,
        cast('holdout' as varchar(7)) as list_name
    from holdout_list
),

stamped as (
    select
        cast('{{ run_started_at.strftime("%Y-%m-%d") }}' as date) as snapshot_date,
        {{ model_stamp() }} as model_stamp,
        campaign_name,
        cluster,
        c_customer_sk,
        c_email_address,
        list_name
    from published
),

keyed as (
    select
        {{ dbt.concat([
            "cast(snapshot_date as varchar(10))", "'/'", "campaign_name"
        ]) }} as snapshot_id,
        snapshot_date,
        model_stamp,
        campaign_name,
        cluster,
        c_customer_sk,
        c_email_address,
        list_name
    from stamped
)

select * from keyed
