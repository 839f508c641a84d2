{#- The campaign name (var `campaign_name`), checked before it reaches SQL as a string literal
    and a hash input: letters, digits, spaces, '_' and '-' only, so no quote or ';' can get in;
    and at most campaign_name_max_length() characters, so it fits the lists' column. -#}
{%- macro campaign_name() -%}
    {%- set value = var('campaign_name') | string -%}
    {%- set max_length = campaign_name_max_length() -%}
    {%- if not modules.re.fullmatch('[A-Za-z0-9_ -]{1,' ~ max_length ~ '}', value) -%}
        {{ exceptions.raise_compiler_error(
            "var campaign_name=" ~ value ~ " is not allowed: use 1 to " ~ max_length
            ~ " letters, digits, spaces, '_' or '-'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro -%}

{#- The longest campaign name: the length of the lists' `campaign_name` column, varchar(100) in
    the contract of customer_campaign_emails (a test checks that they agree). -#}
{%- macro campaign_name_max_length() -%}
    {{ return(100) }}
{%- endmacro -%}
