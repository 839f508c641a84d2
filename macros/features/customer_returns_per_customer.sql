{#- The "returned" side of the tutorial's feature query: per customer with a known key,
    distinct tickets with a return, returned line items and amount. One copy of this SQL serves
    both the int_customer_returns model and the SQL Server procedure's input query. -#}
{%- macro customer_returns_per_customer(store_returns) -%}
    select
        customer_sk,
        count(distinct ticket_number) as returns_count,
        count(item_sk) as returns_items,
        sum(return_amount) as returns_money
    from {{ store_returns }}
    where customer_sk is not null
    group by customer_sk
{%- endmacro -%}
