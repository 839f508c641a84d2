{#- A number in 0..9999 from the first 4 bytes of md5(customer key || '|' || campaign name):
    deterministic, uniform, and the same on DuckDB and SQL Server (both hash the ASCII text).
    Dispatched because the hex digest turns into a number differently on each target. -#}
{%- macro holdout_bucket(customer_key, campaign) -%}
    {{ return(adapter.dispatch('holdout_bucket', 'customer_segmentation')(customer_key, campaign)) }}
{%- endmacro -%}

{%- macro default__holdout_bucket(customer_key, campaign) -%}
    {{ exceptions.raise_compiler_error(
        'holdout_bucket has no implementation for adapter ' ~ target.type
    ) }}
{%- endmacro -%}

{%- macro duckdb__holdout_bucket(customer_key, campaign) -%}
    cast(
        '0x' || substr(md5(cast({{ customer_key }} as varchar) || '|{{ campaign }}'), 1, 8)
        as bigint
    ) % 10000
{%- endmacro -%}

{%- macro sqlserver__holdout_bucket(customer_key, campaign) -%}
    convert(
        bigint,
        substring(
            hashbytes('MD5', convert(varchar(40), {{ customer_key }}) + '|{{ campaign }}'), 1, 4
        )
    ) % 10000
{%- endmacro -%}
