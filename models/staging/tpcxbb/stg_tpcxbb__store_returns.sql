with

source as (
    select * from {{ source('tpcxbb', 'store_returns') }}
),

renamed as (
    select
        sr_ticket_number as ticket_number,
        sr_item_sk as item_sk,
        sr_customer_sk as customer_sk,
        sr_returned_date_sk as returned_date_sk,
        sr_return_amt as return_amount
    from source
)

select * from renamed
