-- Every clustered customer of the campaign's segments, screened for the campaign: why the
-- customer cannot be mailed (no address, opted out, invalid or shared address) or NULL when
-- the customer can, and whether the customer is in the campaign's holdout.
-- The one place the campaign models read the cluster table.
--
-- A table, not the folder's view: three campaign models and eight tests read it, and as a
-- view each of them re-ran the screening (e-mail normalisation, md5 holdout buckets, joins)
-- over every customer: about 1 s per reader at sf=10, 8 s of a nightly build.
--
-- The campaign's gates run here, upstream of everything published, so a failed gate leaves
-- every list, the holdout, the exclusions and the history as they were: before the table is
-- rebuilt, SQL scoring must agree with the cluster table on every customer
-- (assert_sql_scoring_agrees) and the targeted segments must exist
-- (assert_campaign_segments_exist); inside its transaction, someone must be left to mail
-- (assert_campaign_list_not_empty).
{{
    config(
        materialized='table',
        schema='pii',
        grants=campaign_list_grants(),
        pre_hook=[
            "{{ assert_sql_scoring_agrees() }}",
            "{{ assert_campaign_segments_exist() }}",
        ],
        post_hook=["{{ assert_campaign_list_not_empty() }}"],
    )
}}
-- Read by the pre-hooks:
-- depends_on: {{ ref('customer_segment_scores') }}
-- depends_on: {{ ref('segments') }}

with

customer_clusters as (
    select * from {{ ref_customer_clusters() }}
),

customers as (
    select * from {{ ref('stg_tpcxbb__customers') }}
),

email_opt_outs as (
    select * from {{ ref('email_opt_outs') }}
),

current_model as (
    select * from {{ ref('int_segment_centroids_current') }}
),

-- The training run the cluster table was scored with (assert_sql_scoring_agrees checks it):
-- kept on every row, so the lists' history says which model run each list came from.
current_run as (
    select max(run_id) as model_run_id
    from current_model
),

{%- set segments = campaign_segments() %}

campaign_customers as (
    select
        customer_clusters.cluster,
        customers.customer_sk,
        customers.email_address,
        -- The one definition of "has an e-mail address", which the exclusions
        -- (no_email_address) and cluster_email_coverage both count.
        case when customers.email_address is null then 0 else 1 end as has_email,
        {{ normalized_email('customers.email_address') }} as email_key
    from customer_clusters
    inner join customers
        on customer_clusters.Customer = customers.customer_sk
    {%- if segments %}
    where customer_clusters.cluster in ({{ segments | join(', ') }})
    {%- endif %}
),

opted_out_customers as (
    select distinct customer_sk
    from email_opt_outs
    where customer_sk is not null
),

opted_out_addresses as (
    select distinct {{ normalized_email('email_address') }} as email_key
    from email_opt_outs
    where email_address is not null
),

-- One address held by several customers: nobody can tell whose it is, so none of them is
-- mailed (mailing one would send it the segment of a customer chosen at random).
shared_addresses as (
    select {{ normalized_email('email_address') }} as email_key
    from customers
    where email_address is not null
    group by {{ normalized_email('email_address') }}
    having count(*) > 1
),

screened as (
    select
        campaign_customers.cluster,
        campaign_customers.customer_sk,
        campaign_customers.email_address,
        campaign_customers.has_email,
        case
            when campaign_customers.has_email = 0 then 'no_email_address'
            when
                opted_out_customers.customer_sk is not null
                or opted_out_addresses.email_key is not null
                then 'opted_out'
            when not {{ email_is_valid('campaign_customers.email_address') }}
                then 'invalid_email_address'
            when shared_addresses.email_key is not null then 'duplicate_email_address'
        end as exclusion_reason,
        {{ holdout_bucket('campaign_customers.customer_sk', campaign_name()) }} as holdout_bucket
    from campaign_customers
    left join opted_out_customers
        on campaign_customers.customer_sk = opted_out_customers.customer_sk
    left join opted_out_addresses
        on campaign_customers.email_key = opted_out_addresses.email_key
    left join shared_addresses
        on campaign_customers.email_key = shared_addresses.email_key
),

with_holdout as (
    select
        cast('{{ campaign_name() }}' as varchar({{ campaign_name_max_length() }}))
            as campaign_name,
        screened.cluster,
        screened.customer_sk,
        screened.email_address,
        screened.has_email,
        screened.exclusion_reason,
        screened.holdout_bucket,
        case
            when screened.holdout_bucket < {{ (holdout_share() * 10000) | round | int }} then 1
            else 0
        end as is_holdout,
        current_run.model_run_id
    from screened
    cross join current_run
)

select * from with_holdout
