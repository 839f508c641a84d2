-- Rule: the cluster table holds exactly the customers of the feature table, one row each,
-- with the same feature values (the clustering may not drop, add or alter customers).
with

features as (
    select * from {{ ref('customer_return_features') }}
),

customer_clusters as (
    select * from {{ ref_customer_clusters() }}
),

mismatches as (
    select
        coalesce(features.customer, customer_clusters.Customer) as customer,
        case
            when features.customer is null then 'clustered but has no features'
            when customer_clusters.Customer is null then 'has features but no cluster'
            else 'feature values differ'
        end as problem
    from features
    full outer join customer_clusters
        on features.customer = customer_clusters.Customer
    where
        features.customer is null
        or customer_clusters.Customer is null
        or features.orderRatio <> customer_clusters.OrderRatio
        or features.itemsRatio <> customer_clusters.itemsRatio
        or features.monetaryRatio <> customer_clusters.monetaryRatio
        or features.frequency <> customer_clusters.frequency
)

select * from mismatches
