{#- The "orders" side of the tutorial's feature query: per customer with a known key, distinct
    tickets, line items, net paid and the highest ticket number. One copy of this SQL serves both the int_customer_orders
    model and the SQL Server procedure's input query (customer_return_features_query). -#}
{%- macro customer_orders_per_customer(store_sales) -%}
    select
        customer_sk,
        count(distinct ticket_number) as orders_count,
        count(item_sk) as orders_items,
        sum(net_paid) as orders_money,
        -- The incremental model's watermark: new sales come on higher ticket numbers.
        max(ticket_number) as last_ticket_number
    from {{ store_sales }}
    where customer_sk is not null
    group by customer_sk
{%- endmacro -%}
