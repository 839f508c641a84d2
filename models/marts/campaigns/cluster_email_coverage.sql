-- How many customers of each cluster a campaign can reach: the list's size and the
-- customers it must leave out for want of an e-mail address.
with

customer_clusters as (
    select * from {{ ref_customer_clusters() }}
),

customers as (
    select * from {{ ref('stg_tpcxbb__customers') }}
),

clustered_customers as (
    select
        customer_clusters.cluster,
        customers.email_address
    from customer_clusters
    left join customers
        on customer_clusters.Customer = customers.customer_sk
),

coverage as (
    select
        cluster,
        count(*) as customers,
        count(email_address) as customers_with_email,
        count(*) - count(email_address) as customers_without_email
    from clustered_customers
    group by cluster
)

select * from coverage
