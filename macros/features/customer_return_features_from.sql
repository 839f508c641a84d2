{#- The tutorial's features from per-customer orders and returns: a left join keeps customers
    without returns (ratios and frequency 0). One copy of this SQL serves both the
    customer_return_features model and the SQL Server procedure's input query. -#}
{%- macro customer_return_features_from(customer_orders, customer_returns) -%}
    select
        {{ customer_orders }}.customer_sk as customer,
        {{ return_ratio(customer_returns ~ '.returns_count', customer_orders ~ '.orders_count') }}
            as orderRatio,
        {{ return_ratio(customer_returns ~ '.returns_items', customer_orders ~ '.orders_items') }}
            as itemsRatio,
        {{ return_ratio(customer_returns ~ '.returns_money', customer_orders ~ '.orders_money') }}
            as monetaryRatio,
        coalesce({{ customer_returns }}.returns_count, 0) as frequency
    from {{ customer_orders }}
    left join {{ customer_returns }}
        on {{ customer_orders }}.customer_sk = {{ customer_returns }}.customer_sk
{%- endmacro -%}
