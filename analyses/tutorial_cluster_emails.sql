-- The tutorial's last query: the e-mail addresses of the customers in one cluster
-- (cluster 0 in the tutorial). Compile it with `dbt compile -s tutorial_cluster_emails
-- --vars '{cluster: 2}'` and run the SQL in target/compiled/ from any client.
with

customer_campaign_emails as (
    select * from {{ ref('customer_campaign_emails') }}
),

one_cluster as (
    select
        c_email_address,
        c_customer_sk
    from customer_campaign_emails
    where cluster = {{ validated_var('cluster') }}
)

select * from one_cluster
