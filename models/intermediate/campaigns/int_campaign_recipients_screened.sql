-- Every clustered customer, screened for the campaign: whether the campaign targets the
-- customer's segment, why the customer cannot be mailed (no address, opted out, invalid or
-- shared address) or NULL when the customer can, and whether the customer is in the
-- campaign's holdout. The one place the campaign models read the cluster table; the lists
-- are tables filtered from it (docs/decisions/incremental-screening.md).
--
-- Incremental (delete+insert on customer_sk): a nightly build re-screens only the customers
-- whose scores row (customer_segment_scores) was refreshed after this table's latest
-- `refreshed_at` (new customers, changed features, changed segment). Everyone is re-screened
-- when anything else the screening reads changed, which `screening_inputs` records on every
-- row: the current model run (a retrain or a rollback), the opt-out seed, the customers'
-- keys and addresses (an address decides whether others' addresses are shared), and the
-- vars campaign_name, holdout_share and campaign_segments. Every clustered customer is kept,
-- targeted or not (`is_targeted`), so a customer whose new segment the campaign does not
-- target leaves the lists when re-screened. Any sequence of builds gives the rows of a
-- --full-refresh (test_incremental_campaigns.py).
--
-- The campaign's gates run here, upstream of everything published, so a failed gate leaves
-- every list, the holdout, the exclusions and the history as they were: before the table is
-- written, SQL scoring must agree with the cluster table on every customer
-- (assert_sql_scoring_agrees) and the targeted segments must exist
-- (assert_campaign_segments_exist); inside its transaction, someone must be left to mail
-- (assert_campaign_list_not_empty).
{{
    config(
        materialized='incremental',
        unique_key='customer_sk',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
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
-- depends_on: {{ ref('segments') }}

with

customer_clusters as (
    select * from {{ ref_customer_clusters() }}
),

customer_segment_scores as (
    select * from {{ ref('customer_segment_scores') }}
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
{#- Every segment when campaign_segments is empty. #}
{%- set targeted = '1 = 1' %}
{%- if segments %}
    {%- set targeted = 'screened.cluster in (' ~ segments | join(', ') ~ ')' %}
{%- endif %}
{%- set holdout_threshold = (holdout_share() * 10000) | round | int %}
{#- The vars the screening reads, already validated, as one digest (dbt's local_md5): it
    changes when any of them does. #}
{%- set vars_digest = local_md5(
    campaign_name() ~ '|' ~ holdout_threshold ~ '|' ~ segments | join(',')
) %}

opt_out_inputs as (
    select {{ unordered_fingerprint(['customer_sk', 'email_address']) }} as fingerprint
    from email_opt_outs
),

address_inputs as (
    select {{ unordered_fingerprint(['customer_sk', 'email_address']) }} as fingerprint
    from customers
),

-- Everything but the scores that decides a screening row: one value for the whole build.
current_inputs as (
    select
        current_run.model_run_id,
        cast(
            {{ dbt.concat([
                'current_run.model_run_id', "'|'",
                "'" ~ vars_digest ~ "'", "'|'",
                'opt_out_inputs.fingerprint', "'|'",
                'address_inputs.fingerprint',
            ]) }} as varchar(255)
        ) as screening_inputs
    from current_run
    cross join opt_out_inputs
    cross join address_inputs
),

{% if is_incremental() %}

previous_screening as (
    select
        refreshed_at,
        screening_inputs
    from {{ this }}
),

-- Everyone is re-screened unless every stored row was screened with today's inputs.
watermark as (
    select
        coalesce(max(previous_screening.refreshed_at), {{ epoch_stamp() }}) as last_refreshed_at,
        case
            when
                min(previous_screening.screening_inputs) = max(current_inputs.screening_inputs)
                and max(previous_screening.screening_inputs)
                = max(current_inputs.screening_inputs)
                then 0
            else 1
        end as rescreen_everyone
    from previous_screening
    cross join current_inputs
),

{% endif %}

customers_to_screen as (
    select customer_segment_scores.customer as customer_sk
    from customer_segment_scores
    {%- if is_incremental() %}
    cross join watermark
    where
        watermark.rescreen_everyone = 1
        or customer_segment_scores.refreshed_at > watermark.last_refreshed_at
    {%- endif %}
),

clustered_customers as (
    select
        customer_clusters.cluster,
        customers.customer_sk,
        customers.email_address,
        -- The one definition of "has an e-mail address", which the exclusions
        -- (no_email_address) and cluster_email_coverage both count.
        case when customers.email_address is null then 0 else 1 end as has_email,
        {{ normalized_email('customers.email_address') }} as email_key
    from customers_to_screen
    inner join customer_clusters
        on customers_to_screen.customer_sk = customer_clusters.Customer
    inner join customers
        on customers_to_screen.customer_sk = customers.customer_sk
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

customer_addresses as (
    select {{ normalized_email('email_address') }} as email_key
    from customers
    where email_address is not null
),

-- One address held by several customers: nobody can tell whose it is, so none of them is
-- mailed (mailing one would send it the segment of a customer chosen at random). Counted
-- only for the addresses of the customers being screened: a nightly batch is small, and a
-- group by every address of the customer table was most of its cost.
shared_addresses as (
    select customer_addresses.email_key
    from customer_addresses
    where
        customer_addresses.email_key in (
            select clustered_customers.email_key
            from clustered_customers
        )
    group by customer_addresses.email_key
    having count(*) > 1
),

screened as (
    select
        clustered_customers.cluster,
        clustered_customers.customer_sk,
        clustered_customers.email_address,
        clustered_customers.has_email,
        case
            when clustered_customers.has_email = 0 then 'no_email_address'
            when
                opted_out_customers.customer_sk is not null
                or opted_out_addresses.email_key is not null
                then 'opted_out'
            when not {{ email_is_valid('clustered_customers.email_address') }}
                then 'invalid_email_address'
            when shared_addresses.email_key is not null then 'duplicate_email_address'
        end as exclusion_reason,
        {{ holdout_bucket('clustered_customers.customer_sk', campaign_name()) }}
            as holdout_bucket
    from clustered_customers
    left join opted_out_customers
        on clustered_customers.customer_sk = opted_out_customers.customer_sk
    left join opted_out_addresses
        on clustered_customers.email_key = opted_out_addresses.email_key
    left join shared_addresses
        on clustered_customers.email_key = shared_addresses.email_key
),

with_holdout as (
    select
        cast('{{ campaign_name() }}' as varchar({{ campaign_name_max_length() }}))
            as campaign_name,
        screened.cluster,
        screened.customer_sk,
        case when {{ targeted }} then 1 else 0 end as is_targeted,
        screened.email_address,
        screened.has_email,
        screened.exclusion_reason,
        screened.holdout_bucket,
        case
            when screened.holdout_bucket < {{ holdout_threshold }} then 1
            else 0
        end as is_holdout,
        current_inputs.model_run_id,
        current_inputs.screening_inputs,
        {{ build_stamp() }} as refreshed_at
    from screened
    cross join current_inputs
)

select * from with_holdout
