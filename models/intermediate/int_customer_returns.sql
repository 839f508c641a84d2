-- Return history per customer: the "returned" side of the tutorial's feature query.
-- Returns without a customer key cannot be matched to anyone and are left out here.
--
-- Incremental like int_customer_orders: customers whose number of return lines differs from
-- the stored `returns_items` are recomputed from their whole history. Returns arrive for old
-- tickets and some have a NULL `sr_returned_date_sk`, so neither a ticket nor a date
-- watermark would find them all; the line count does.
{{
    config(
        materialized='incremental',
        unique_key='customer_sk',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

store_returns as (
    select * from {{ ref('stg_tpcxbb__store_returns') }}
),

known_customer_returns as (
    select
        customer_sk,
        ticket_number,
        item_sk,
        return_amount
    from store_returns
    where customer_sk is not null
),

{% if is_incremental() %}

stored_returns as (
    select
        customer_sk,
        returns_items
    from {{ this }}
),

lines_per_customer as (
    select
        customer_sk,
        count(item_sk) as returns_items
    from known_customer_returns
    group by customer_sk
),

changed_customers as (
    select lines_per_customer.customer_sk
    from lines_per_customer
    left join stored_returns
        on lines_per_customer.customer_sk = stored_returns.customer_sk
    where
        stored_returns.customer_sk is null
        or stored_returns.returns_items <> lines_per_customer.returns_items
),

returns_to_aggregate as (
    select
        known_customer_returns.customer_sk,
        known_customer_returns.ticket_number,
        known_customer_returns.item_sk,
        known_customer_returns.return_amount
    from known_customer_returns
    inner join changed_customers
        on known_customer_returns.customer_sk = changed_customers.customer_sk
),

{% else %}

returns_to_aggregate as (
    select * from known_customer_returns
),

{% endif %}

returns_per_customer as (
    select
        customer_sk,
        count(distinct ticket_number) as returns_count,
        count(item_sk) as returns_items,
        sum(return_amount) as returns_money
    from returns_to_aggregate
    group by customer_sk
)

select * from returns_per_customer
