-- One row per customer with store sales: the tutorial's purchase/return features.
-- A left join keeps customers without returns (their ratios and frequency are 0); returns of
-- customers without store sales have nothing to be a ratio of and drop out, as in the tutorial.
--
-- Incremental: a run recomputes the customers whose orders or returns row was refreshed
-- after this table's latest `refreshed_at` (every customer the builds since then changed),
-- from their two aggregate rows. Customers never vanish from append-only sources, so no row
-- has to leave.
{{
    config(
        materialized='incremental',
        unique_key='customer',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

all_customer_orders as (
    select * from {{ ref('int_customer_orders') }}
),

all_customer_returns as (
    select * from {{ ref('int_customer_returns') }}
),

{% if is_incremental() %}

-- The relations, not the import CTEs: DuckDB copies a CTE that is referenced twice.
customers_refreshed as (
    select customer_sk
    from {{ ref('int_customer_orders') }}
    where refreshed_at > {{ last_refreshed_at(this) }}
    union
    select customer_sk
    from {{ ref('int_customer_returns') }}
    where refreshed_at > {{ last_refreshed_at(this) }}
),

{% endif %}

customer_orders as (
    select all_customer_orders.*
    from all_customer_orders
    {% if is_incremental() %}
        inner join customers_refreshed
            on all_customer_orders.customer_sk = customers_refreshed.customer_sk
    {% endif %}
),

customer_returns as (
    select all_customer_returns.*
    from all_customer_returns
    {% if is_incremental() %}
        inner join customers_refreshed
            on all_customer_returns.customer_sk = customers_refreshed.customer_sk
    {% endif %}
),

-- The join and the ratios are a macro so that the SQL Server procedure's input query runs
-- the very same SQL (macros/features/customer_return_features_from.sql).
features as (
    {{ customer_return_features_from('customer_orders', 'customer_returns') }}
),

stamped_features as (
    select
        customer,
        orderRatio,
        itemsRatio,
        monetaryRatio,
        frequency,
        {{ build_stamp() }} as refreshed_at
    from features
)

select * from stamped_features
