{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        full_refresh=false,
        schema='pii',
        grants=campaign_list_grants(),
    )
}}
-- Every published list, kept: a snapshot of the send list and the holdout of a campaign each
-- time they change, stamped with when they were published and the clustering they came from,
-- so "who received campaign X" has an answer after the next retrain. A published snapshot is
-- never deleted or changed: rows are only appended (and full_refresh=false keeps
-- --full-refresh from wiping them). A build whose lists equal the campaign's latest snapshot
-- adds nothing; one whose lists differ, on the same day or later, adds a new snapshot beside
-- the earlier ones. The latest snapshot is the one with the latest `published_at`; rows
-- written before that column existed (on_schema_change adds it, NULL) count as published at
-- the start of their `snapshot_date`.
-- Text columns have explicit lengths: dbt's type_string is varchar(max) on SQL Server.
{%- set campaign = campaign_name() %}
{%- set published_at = run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') %}
{%- set published_order = 'cast(snapshot_date as ' ~ dbt.type_timestamp() ~ ')' %}
{%- if is_incremental() %}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    {%- if 'published_at' in columns | map('lower') %}
        {%- set published_order = 'coalesce(published_at, ' ~ published_order ~ ')' %}
    {%- endif %}
{%- endif %}

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

-- The campaign's snapshots so far, each with the moment it was published (none on the first
-- build).
recorded as (
    {% if is_incremental() %}
        select
            {{ published_order }} as published_order,
            cluster,
            c_customer_sk,
            c_email_address,
            list_name
        from {{ this }}
        where campaign_name = '{{ campaign }}'
    {% else %}
        select
            cast(null as {{ dbt.type_timestamp() }}) as published_order,
            cluster,
            c_customer_sk,
            c_email_address,
            list_name
        from published
        where 1 = 0
    {% endif %}
),

latest as (
    select max(published_order) as published_order
    from recorded
),

latest_snapshot as (
    select
        recorded.cluster,
        recorded.c_customer_sk,
        recorded.c_email_address,
        recorded.list_name
    from recorded
    inner join latest
        on recorded.published_order = latest.published_order
),

added as (
    select
        cluster,
        c_customer_sk,
        c_email_address,
        list_name
    from published
    except
    select
        cluster,
        c_customer_sk,
        c_email_address,
        list_name
    from latest_snapshot
),

removed as (
    select
        cluster,
        c_customer_sk,
        c_email_address,
        list_name
    from latest_snapshot
    except
    select
        cluster,
        c_customer_sk,
        c_email_address,
        list_name
    from published
),

changed as (
    select
        campaign_name,
        cluster,
        c_customer_sk,
        c_email_address,
        list_name
    from published
    where
        exists (select 1 from added)
        or exists (select 1 from removed)
),

stamped as (
    select
        {{ dbt.concat(["'" ~ published_at ~ "'", "'/'", "campaign_name"]) }} as snapshot_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d") }}' as date) as snapshot_date,
        cast('{{ published_at }}' as {{ dbt.type_timestamp() }}) as published_at,
        {{ model_stamp() }} as model_stamp,
        campaign_name,
        cluster,
        c_customer_sk,
        c_email_address,
        list_name
    from changed
)

select * from stamped
