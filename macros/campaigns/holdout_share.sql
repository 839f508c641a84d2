{#- The share of each segment held out of a campaign (var `holdout_share`), validated
    (macros/vars/validated_var.sql): a float, 0 or in [0.0001, 0.9999], so that
    round(share * 10000) of the 10000 holdout buckets is neither 0 nor all of them. -#}
{%- macro holdout_share() -%}
    {{ return(validated_var('holdout_share')) }}
{%- endmacro -%}
