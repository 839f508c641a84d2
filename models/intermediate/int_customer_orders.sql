-- Purchase history per customer: the "orders" side of the tutorial's feature query.
-- Sales lines without a customer key belong to no customer and are left out here.
with

store_sales as (
    select * from {{ ref('stg_tpcxbb__store_sales') }}
),

-- The aggregation is a macro so that the SQL Server procedure's input query runs the very
-- same SQL (macros/customer_orders_per_customer.sql).
orders_per_customer as (
    {{ customer_orders_per_customer('store_sales') }}
)

select * from orders_per_customer
