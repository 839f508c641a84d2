-- TPC-DS declares the text columns of customer char(n): on SQL Server every value carries
-- trailing blanks (an address would fail the "no space" rule of email_is_valid), so they are
-- trimmed here, on every target; a blank address is no address.
{{ config(schema='pii', grants=campaign_list_grants()) }}

with

source as (
    select * from {{ source('tpcxbb', 'customer') }}
),

renamed as (
    select
        c_customer_sk as customer_sk,
        ltrim(rtrim(c_customer_id)) as customer_id,
        ltrim(rtrim(c_first_name)) as first_name,
        ltrim(rtrim(c_last_name)) as last_name,
        nullif(ltrim(rtrim(c_email_address)), '') as email_address
    from source
)

select * from renamed
