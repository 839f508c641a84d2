-- Purchase history per customer: the "orders" side of the tutorial's feature query.
-- Sales lines without a customer key belong to no customer and are left out here.
with

store_sales as (
    select * from {{ ref('stg_tpcxbb__store_sales') }}
),

known_customer_sales as (
    select
        customer_sk,
        ticket_number,
        item_sk,
        net_paid
    from store_sales
    where customer_sk is not null
),

orders_per_customer as (
    select
        customer_sk,
        count(distinct ticket_number) as orders_count,
        count(item_sk) as orders_items,
        sum(net_paid) as orders_money
    from known_customer_sales
    group by customer_sk
)

select * from orders_per_customer
