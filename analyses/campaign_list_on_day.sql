-- Who was on campaign X's lists (send and holdout) on day D, and from which model run: every
-- row of campaign_list_history open at some moment of that day (the database's clock, which
-- stamps valid_from and valid_to). A customer whose segment, address or model run changed
-- that day appears once per version, with the times of each. Compile it with
-- `dbt compile -s campaign_list_on_day --vars '{campaign_name: spring-2027, list_day: 2027-03-01}'`
-- and run the SQL in target/compiled/ from any client; list_day '' (the default) is today.
{%- set day_start = "cast('" ~ validated_var('list_day') ~ "' as " ~ dbt.type_timestamp() ~ ")" %}

with

history as (
    select * from {{ ref('campaign_list_history') }}
),

on_day as (
    select
        campaign_name,
        list_name,
        c_customer_sk,
        cluster,
        c_email_address,
        model_run_id,
        valid_from,
        valid_to
    from history
    where
        campaign_name = '{{ campaign_name() }}'
        and valid_from < {{ dbt.dateadd('day', 1, day_start) }}
        and (valid_to is null or valid_to > {{ day_start }})
)

select * from on_day
