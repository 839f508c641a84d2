{#- The segments (cluster ids) a campaign targets (var `campaign_segments`), validated
    (macros/vars/validated_var.sql): a list of ints >= 0, empty for every segment. -#}
{%- macro campaign_segments() -%}
    {{ return(validated_var('campaign_segments')) }}
{%- endmacro -%}
