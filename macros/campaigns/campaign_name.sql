{#- The campaign name (var `campaign_name`), validated (macros/vars/validated_var.sql): it
    reaches SQL as a string literal and a hash input, so only letters, digits, spaces, '_'
    and '-' get in, no space at either end, at most campaign_name_max_length() characters. -#}
{%- macro campaign_name() -%}
    {{ return(validated_var('campaign_name')) }}
{%- endmacro -%}

{#- The longest campaign name: the length of the lists' `campaign_name` column, varchar(100) in
    the contract of customer_campaign_emails (a test checks that they agree). -#}
{%- macro campaign_name_max_length() -%}
    {{ return(100) }}
{%- endmacro -%}
