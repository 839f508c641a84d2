{#- The database role that may read the campaign lists (var `campaign_role`), validated
    (macros/vars/validated_var.sql) before it reaches a GRANT statement: a plain identifier. -#}
{%- macro campaign_role() -%}
    {{ return(validated_var('campaign_role')) }}
{%- endmacro -%}
