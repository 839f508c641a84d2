{#- A boolean SQL condition: the text holds at least one character that can be part of an
    e-mail address as the lists hold them (a-z, 0-9, '@', '.', '_', '+', '-'). The opt-out
    guard uses it instead of normalized_email, the macro it checks. Dispatched because T-SQL
    has no regular expressions (its `like` has character classes) and DuckDB's `like` has no
    character classes. -#}
{%- macro has_address_character(text) -%}
    {{ return(adapter.dispatch('has_address_character', 'customer_segmentation')(text)) }}
{%- endmacro -%}

{%- macro default__has_address_character(text) -%}
    {{ exceptions.raise_compiler_error(
        'has_address_character has no implementation for adapter ' ~ target.type
    ) }}
{%- endmacro -%}

{%- macro duckdb__has_address_character(text) -%}
    regexp_matches({{ text }}, '[a-z0-9@._+-]')
{%- endmacro -%}

{#- A binary collation, so that [a-z] is the 26 ASCII letters and not a range of the
    collation's sort order. -#}
{%- macro sqlserver__has_address_character(text) -%}
    (cast({{ text }} as nvarchar(4000)) collate Latin1_General_100_BIN2 like N'%[a-z0-9@._+-]%')
{%- endmacro -%}
