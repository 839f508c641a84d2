{#- The family of a column type as the adapter names it: 'integer', 'number' (a decimal with
    places, a float, money) or 'text', else 'other'. Names from DuckDB (BIGINT, DECIMAL(7,2),
    VARCHAR, HUGEINT...) and SQL Server (int, decimal, money, nvarchar...). A decimal without
    places (`numeric_scale` 0, or `decimal(18,0)`) is an integer: SQL Server keys can be. -#}
{%- macro source_type_kind(data_type, numeric_scale=none) -%}
    {%- set parsed = modules.re.fullmatch(
        '\\s*([a-z][a-z0-9 ]*?)\\s*(?:\\(\\s*(\\d+)\\s*(?:,\\s*(\\d+)\\s*)?\\))?\\s*',
        (data_type or '') | string | lower
    ) -%}
    {%- if parsed is none -%}
        {{ return('other') }}
    {%- endif -%}
    {%- set base = parsed.group(1) -%}
    {%- set scale = parsed.group(3) if parsed.group(3) is not none else numeric_scale -%}
    {%- set integers = [
        'tinyint', 'smallint', 'int', 'integer', 'bigint', 'hugeint', 'utinyint', 'usmallint',
        'uinteger', 'ubigint', 'uhugeint', 'int1', 'int2', 'int4', 'int8', 'long', 'short',
    ] -%}
    {%- set decimals = ['decimal', 'numeric', 'dec'] -%}
    {%- set floats = [
        'float', 'float4', 'float8', 'real', 'double', 'double precision', 'money', 'smallmoney',
    ] -%}
    {%- set texts = [
        'varchar', 'nvarchar', 'char', 'nchar', 'text', 'ntext', 'string', 'bpchar',
        'character', 'character varying',
    ] -%}
    {%- if base in integers -%}
        {{ return('integer') }}
    {%- elif base in decimals -%}
        {{ return('integer' if scale is not none and scale | string == '0' else 'number') }}
    {%- elif base in floats -%}
        {{ return('number') }}
    {%- elif base in texts -%}
        {{ return('text') }}
    {%- endif -%}
    {{ return('other') }}
{%- endmacro -%}
