{#- An aggregate: a text fingerprint of the multiset of rows of `columns` (SQL expressions),
    whatever their order: the row count and the sum of a 64-bit hash of each row. Equal rows
    give equal fingerprints; any change of a value, a NULL, a row added or removed changes it
    (up to a hash collision). Cheap enough to run over a whole table every build, so a model
    can tell whether an input changed without keeping a copy of it. Dispatched because each
    target hashes differently: DuckDB's hash() takes the columns as they are (NULLs
    included), T-SQL's hashbytes takes one string, built with each value's length so that no
    two rows run together. -#}
{%- macro unordered_fingerprint(columns) -%}
    {{ return(adapter.dispatch('unordered_fingerprint', 'customer_segmentation')(columns)) }}
{%- endmacro -%}

{%- macro default__unordered_fingerprint(columns) -%}
    {{ exceptions.raise_compiler_error(
        'unordered_fingerprint has no implementation for adapter ' ~ target.type
    ) }}
{%- endmacro -%}

{%- macro duckdb__unordered_fingerprint(columns) -%}
    cast(count(*) as varchar) || ':'
    || cast(coalesce(sum(hash({{ columns | join(', ') }})), 0) as varchar)
{%- endmacro -%}

{#- Each value as 'n' (NULL) or 'v<length>:<value>', the first 8 bytes of its MD5 as a bigint,
    summed as a decimal (a bigint sum would overflow). -#}
{%- macro sqlserver__unordered_fingerprint(columns) -%}
    {%- set encoded = [] -%}
    {%- for column in columns -%}
        {%- set text = 'convert(nvarchar(4000), ' ~ column ~ ')' -%}
        {%- do encoded.append(
            "case when " ~ column ~ " is null then N'n' else concat(N'v', datalength("
            ~ text ~ "), N':', " ~ text ~ ") end"
        ) -%}
    {%- endfor -%}
    concat(
        count_big(*),
        ':',
        coalesce(sum(convert(decimal(38, 0), convert(bigint, substring(
            hashbytes('MD5', concat({{ encoded | join(', ') }}, N'')), 1, 8
        )))), 0)
    )
{%- endmacro -%}
