-- Purchase history per customer: the "orders" side of the tutorial's feature query.
-- Sales lines without a customer key belong to no customer and are left out here.
--
-- Incremental: a customer's distinct tickets cannot be added to yesterday's count, so a run
-- finds the customers with new sales and recomputes them from their whole history.
-- New sales are the lines on tickets numbered above the highest ticket already aggregated
-- (`last_ticket_number`): a sale is loaded as a whole new ticket and ticket numbers only
-- grow. Unlike a date watermark this also finds the lines whose `ss_sold_date_sk` is NULL.
-- A line added to an already loaded ticket needs `dbt build --full-refresh`, which
-- recomputes everyone and gives the same rows.
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

{% if is_incremental() %}

-- A second import of the same view, read once by the watermark filter: a CTE referenced
-- twice is materialized by DuckDB (a copy of all of store_sales).
store_sales_for_watermark as (
    select * from {{ ref('stg_tpcxbb__store_sales') }}
),

aggregated_orders as (
    select last_ticket_number from {{ this }}
),

-- Ticket numbers are positive: an empty table takes every ticket as new.
watermark as (
    select coalesce(max(last_ticket_number), 0) as last_ticket_number
    from aggregated_orders
),

customers_with_new_sales as (
    select distinct store_sales_for_watermark.customer_sk
    from store_sales_for_watermark
    inner join watermark
        on store_sales_for_watermark.ticket_number > watermark.last_ticket_number
    where store_sales_for_watermark.customer_sk is not null
),

{% endif %}

sales_to_aggregate as (
    select
        store_sales.customer_sk,
        store_sales.ticket_number,
        store_sales.item_sk,
        store_sales.net_paid
    from store_sales
    {% if is_incremental() %}
        inner join customers_with_new_sales
            on store_sales.customer_sk = customers_with_new_sales.customer_sk
    {% endif %}
    where store_sales.customer_sk is not null
),

-- The aggregation is a macro so that the SQL Server procedure's input query runs the very
-- same SQL (macros/features/customer_orders_per_customer.sql).
orders_per_customer as (
    {{ customer_orders_per_customer('sales_to_aggregate') }}
)

select * from orders_per_customer
