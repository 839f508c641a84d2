-- Rule: the feature macros turn sales and return lines into the tutorial's features: per
-- customer with a key, distinct tickets, lines and amounts of orders and of returns, their
-- ratios (0 without returns), and the number of returned tickets as frequency.
with

store_sales as (
    select
        sale_lines.customer_sk,
        sale_lines.ticket_number,
        sale_lines.item_sk,
        sale_lines.net_paid
    from (
        values
        (1, 10, 100, 10.00),
        (1, 10, 101, 30.00),
        (1, 11, 100, 60.00),
        (2, 12, 100, 50.00),
        (null, 13, 100, 99.00)
    ) as sale_lines (customer_sk, ticket_number, item_sk, net_paid)
),

store_returns as (
    select
        return_lines.customer_sk,
        return_lines.ticket_number,
        return_lines.item_sk,
        return_lines.return_amount
    from (
        values
        (1, 10, 101, 30.00),
        (null, 13, 100, 99.00)
    ) as return_lines (customer_sk, ticket_number, item_sk, return_amount)
),

customer_orders as (
    {{ customer_orders_per_customer('store_sales') }}
),

customer_returns as (
    {{ customer_returns_per_customer('store_returns') }}
),

features as (
    {{ customer_return_features_from('customer_orders', 'customer_returns') }}
),

expected as (
    select
        rows_expected.customer,
        rows_expected.orderRatio,
        rows_expected.itemsRatio,
        rows_expected.monetaryRatio,
        rows_expected.frequency,
        rows_expected.last_ticket_number
    from (
        values
        (1, 0.5, 0.3333333, 0.3, 1, 11),
        (2, 0.0, 0.0, 0.0, 0, 12)
    ) as rows_expected (
        customer, orderRatio, itemsRatio, monetaryRatio, frequency, last_ticket_number
    )
),

actual as (
    select
        features.customer,
        features.orderRatio,
        features.itemsRatio,
        features.monetaryRatio,
        features.frequency,
        customer_orders.last_ticket_number
    from features
    inner join customer_orders
        on features.customer = customer_orders.customer_sk
),

mismatches as (
    select
        coalesce(actual.customer, expected.customer) as customer,
        case when actual.customer is null then 'missing' else 'wrong features' end as problem
    from actual
    full outer join expected
        on actual.customer = expected.customer
    where
        actual.customer is null
        or expected.customer is null
        or actual.orderRatio <> expected.orderRatio
        or actual.itemsRatio <> expected.itemsRatio
        or actual.monetaryRatio <> expected.monetaryRatio
        or actual.frequency <> expected.frequency
        or actual.last_ticket_number <> expected.last_ticket_number
)

select * from mismatches
