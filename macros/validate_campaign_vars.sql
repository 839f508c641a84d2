{#- Run first in on-run-start: check every var that reaches SQL, so a bad value stops the
    invocation before any model runs. The models call the same macros, so `dbt compile` and a
    selected run fail alike. -#}
{%- macro validate_campaign_vars() -%}
    {%- do campaign_name() -%}
    {%- do holdout_share() -%}
    {%- do campaign_segments() -%}
    {%- do campaign_role() -%}
{%- endmacro -%}
