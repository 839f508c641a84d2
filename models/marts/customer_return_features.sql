-- One row per customer who bought something: the tutorial's purchase/return features.
-- A left join keeps customers without returns (their ratios and frequency are 0); returns of
-- customers without store sales have nothing to be a ratio of and drop out, as in the tutorial.
with

customer_orders as (
    select * from {{ ref('int_customer_orders') }}
),

customer_returns as (
    select * from {{ ref('int_customer_returns') }}
),

orders_with_returns as (
    select
        customer_orders.customer_sk,
        customer_orders.orders_count,
        customer_orders.orders_items,
        customer_orders.orders_money,
        customer_returns.returns_count,
        customer_returns.returns_items,
        customer_returns.returns_money
    from customer_orders
    left join customer_returns
        on customer_orders.customer_sk = customer_returns.customer_sk
),

features as (
    select
        customer_sk as customer,
        {{ return_ratio('returns_count', 'orders_count') }} as orderRatio,
        {{ return_ratio('returns_items', 'orders_items') }} as itemsRatio,
        {{ return_ratio('returns_money', 'orders_money') }} as monetaryRatio,
        coalesce(returns_count, 0) as frequency
    from orders_with_returns
)

select * from features
