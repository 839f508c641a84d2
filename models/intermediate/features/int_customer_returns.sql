-- Return history per customer: the "returned" side of the tutorial's feature query.
-- Returns without a customer key cannot be matched to anyone and are left out here.
--
-- Incremental: customers whose number of return lines differs from the stored
-- `returns_items` (append-only returns can only raise it) are recomputed from their whole
-- history. Returns arrive for old tickets and some have a NULL `sr_returned_date_sk`, so
-- neither a ticket nor a date watermark would find them all; the line count does, for one
-- scan of store_returns (a tenth of store_sales).
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

{% if is_incremental() %}

-- A second import of the same view, read once by the line count: a CTE referenced twice is
-- materialized by DuckDB, which would copy all of store_returns.
store_returns_to_count as (
    select * from {{ ref('stg_tpcxbb__store_returns') }}
),

aggregated_returns as (
    select
        customer_sk,
        returns_items
    from {{ this }}
),

lines_per_customer as (
    select
        customer_sk,
        count(item_sk) as returns_items
    from store_returns_to_count
    where customer_sk is not null
    group by customer_sk
),

customers_with_new_returns as (
    select lines_per_customer.customer_sk
    from lines_per_customer
    left join aggregated_returns
        on lines_per_customer.customer_sk = aggregated_returns.customer_sk
    where
        aggregated_returns.customer_sk is null
        or aggregated_returns.returns_items <> lines_per_customer.returns_items
),

{% endif %}

returns_to_aggregate as (
    select
        store_returns.customer_sk,
        store_returns.ticket_number,
        store_returns.item_sk,
        store_returns.return_amount
    from store_returns
    {% if is_incremental() %}
        inner join customers_with_new_returns
            on store_returns.customer_sk = customers_with_new_returns.customer_sk
    {% endif %}
    where store_returns.customer_sk is not null
),

-- The aggregation is a macro so that the SQL Server procedure's input query runs the very
-- same SQL (macros/features/customer_returns_per_customer.sql).
returns_per_customer as (
    {{ customer_returns_per_customer('returns_to_aggregate') }}
),

stamped_returns as (
    select
        customer_sk,
        returns_count,
        returns_items,
        returns_money,
        {{ build_stamp() }} as refreshed_at
    from returns_per_customer
)

select * from stamped_returns
