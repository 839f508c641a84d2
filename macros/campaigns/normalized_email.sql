{#- The form in which addresses are compared (opt-outs, shared addresses): every whitespace,
    control and format character removed, wherever it is (pasted addresses carry tabs, CRLF,
    no-break and zero-width spaces), then lower case. Dispatched because DuckDB removes the
    characters with one regular expression and T-SQL, which has none, with TRANSLATE and
    REPLACE; both remove exactly normalized_email_removed_characters(). -#}
{%- macro normalized_email(column) -%}
    {{ return(adapter.dispatch('normalized_email', 'customer_segmentation')(column)) }}
{%- endmacro -%}

{#- The characters normalized_email removes, as (first, last) code point ranges: every
    character of the Basic Multilingual Plane in the Unicode categories Zs, Zl, Zp
    (whitespace: space, no-break, ideographic, line and paragraph separators), Cc (control:
    tab, LF, VT, FF, CR, NEL, ...) and Cf (format: soft hyphen, zero-width space and joiners,
    word joiner, byte-order mark, bidi marks, ...). Unicode 14; python/tests checks the list
    against Python's unicodedata. -#}
{%- macro normalized_email_removed_characters() -%}
    {{ return([
        (0, 32), (127, 160), (173, 173), (1536, 1541), (1564, 1564), (1757, 1757),
        (1807, 1807), (2192, 2193), (2274, 2274), (5760, 5760), (6158, 6158),
        (8192, 8207), (8232, 8239), (8287, 8292), (8294, 8303), (12288, 12288),
        (65279, 65279), (65529, 65531),
    ]) }}
{%- endmacro -%}

{%- macro default__normalized_email(column) -%}
    {{ exceptions.raise_compiler_error(
        'normalized_email has no implementation for adapter ' ~ target.type
    ) }}
{%- endmacro -%}

{#- One RE2 character class of the ranges, written with \x{hhhh} escapes. -#}
{%- macro duckdb__normalized_email(column) -%}
    {%- set ranges = [] -%}
    {%- for first, last in normalized_email_removed_characters() -%}
        {%- set start = '\\x{%04x}' | format(first) -%}
        {%- do ranges.append(start if first == last else start ~ '-' ~ '\\x{%04x}' | format(last)) -%}
    {%- endfor -%}
    lower(regexp_replace({{ column }}, '[{{ ranges | join('') }}]', '', 'g'))
{%- endmacro -%}

{#- TRANSLATE turns each listed character into NCHAR(1) (itself a listed one), REPLACE removes
    it. In Unicode (nvarchar) with a binary collation: a varchar cannot hold most of these
    characters, and the usual case-insensitive collations give NUL and the zero-width
    characters no weight, so REPLACE and TRANSLATE would not find them. -#}
{%- macro sqlserver__normalized_email(column) -%}
    {%- set characters = [] -%}
    {%- for first, last in normalized_email_removed_characters() -%}
        {%- for code_point in range(first, last + 1) -%}
            {%- do characters.append('nchar(' ~ code_point ~ ')') -%}
        {%- endfor -%}
    {%- endfor -%}
    lower(replace(translate(
        cast({{ column }} as nvarchar(4000)) collate Latin1_General_100_BIN2,
        {{ characters | join(' + ') }},
        replicate(nchar(1), {{ characters | length }})
    ), nchar(1), N''))
{%- endmacro -%}
