-- The campaign e-mail list of every cluster, one row per reachable customer: the tutorial's
-- last query ("customers in cluster 0") for all clusters at once, for BI tools to filter.
-- Customers without an e-mail address cannot be mailed and are left out (counted in
-- cluster_email_coverage).
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
        customers.customer_sk,
        customers.email_address
    from customer_clusters
    inner join customers
        on customer_clusters.Customer = customers.customer_sk
),

reachable_customers as (
    select
        cluster,
        customer_sk as c_customer_sk,
        email_address as c_email_address
    from clustered_customers
    where email_address is not null
)

select * from reachable_customers
