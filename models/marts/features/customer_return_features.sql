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

-- The join and the ratios are a macro so that the SQL Server procedure's input query runs
-- the very same SQL (macros/features/customer_return_features_from.sql).
features as (
    {{ customer_return_features_from('customer_orders', 'customer_returns') }}
)

select * from features
