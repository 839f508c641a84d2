-- Return history per customer: the "returned" side of the tutorial's feature query.
-- Returns without a customer key cannot be matched to anyone and are left out here.
with

store_returns as (
    select * from {{ ref('stg_tpcxbb__store_returns') }}
),

-- The aggregation is a macro so that the SQL Server procedure's input query runs the very
-- same SQL (macros/customer_returns_per_customer.sql).
returns_per_customer as (
    {{ customer_returns_per_customer('store_returns') }}
)

select * from returns_per_customer
