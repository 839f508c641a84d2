-- Purchase history per customer: the "orders" side of the tutorial's feature query.
-- Sales lines without a customer key belong to no customer and are left out here.
--
-- Incremental: a customer's distinct tickets cannot be added to yesterday's count, so a run
-- finds the customers whose sales changed and recomputes them from their whole history.
-- A customer has changed when their number of sales lines differs from the stored
-- `orders_items` (append-only sales can only raise it). This needs no date or ticket
-- watermark, so it also catches lines with a NULL `ss_sold_date_sk` and lines added to an old
-- ticket. `dbt build --full-refresh` recomputes everyone and gives the same rows.
{{
    config(
        materialized='incremental',
        unique_key='customer_sk',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

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

{% if is_incremental() %}

stored_orders as (
    select
        customer_sk,
        orders_items
    from {{ this }}
),

lines_per_customer as (
    select
        customer_sk,
        count(item_sk) as orders_items
    from known_customer_sales
    group by customer_sk
),

changed_customers as (
    select lines_per_customer.customer_sk
    from lines_per_customer
    left join stored_orders
        on lines_per_customer.customer_sk = stored_orders.customer_sk
    where
        stored_orders.customer_sk is null
        or stored_orders.orders_items <> lines_per_customer.orders_items
),

sales_to_aggregate as (
    select
        known_customer_sales.customer_sk,
        known_customer_sales.ticket_number,
        known_customer_sales.item_sk,
        known_customer_sales.net_paid
    from known_customer_sales
    inner join changed_customers
        on known_customer_sales.customer_sk = changed_customers.customer_sk
),

{% else %}

sales_to_aggregate as (
    select * from known_customer_sales
),

{% endif %}

orders_per_customer as (
    select
        customer_sk,
        count(distinct ticket_number) as orders_count,
        count(item_sk) as orders_items,
        sum(net_paid) as orders_money
    from sales_to_aggregate
    group by customer_sk
)

select * from orders_per_customer
