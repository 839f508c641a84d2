-- Return history per customer: the "returned" side of the tutorial's feature query.
-- Returns without a customer key cannot be matched to anyone and are left out here.
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

returns_per_customer as (
    select
        customer_sk,
        count(distinct ticket_number) as returns_count,
        count(item_sk) as returns_items,
        sum(return_amount) as returns_money
    from known_customer_returns
    group by customer_sk
)

select * from returns_per_customer
