with

source as (
    select * from {{ source('tpcxbb', 'store_sales') }}
),

renamed as (
    select
        ss_ticket_number as ticket_number,
        ss_item_sk as item_sk,
        ss_customer_sk as customer_sk,
        ss_sold_date_sk as sold_date_sk,
        ss_net_paid as net_paid
    from source
)

select * from renamed
