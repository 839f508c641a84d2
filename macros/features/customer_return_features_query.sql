{#- The whole feature pipeline (staging views -> per-customer orders and returns -> features)
    as one SELECT, built from the very macros the intermediate and mart models use. It is the
    SQL Server procedure's @input_data_1: the procedure recomputes the features from the live
    source tables every time an app calls it, as in the tutorial. Legal T-SQL: one WITH, no
    nested WITH, no ORDER BY (the clustering orders rows by customer itself). -#}
{%- macro customer_return_features_query() -%}
with

store_sales as (
    select * from {{ ref('stg_tpcxbb__store_sales') }}
),

store_returns as (
    select * from {{ ref('stg_tpcxbb__store_returns') }}
),

customer_orders as (
    {{ customer_orders_per_customer('store_sales') }}
),

customer_returns as (
    {{ customer_returns_per_customer('store_returns') }}
),

features as (
    {{ customer_return_features_from('customer_orders', 'customer_returns') }}
)

select * from features
{%- endmacro -%}
