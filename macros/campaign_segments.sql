{#- The segments (cluster ids) a campaign targets (var `campaign_segments`): a list of
    non-negative integers, or empty for every segment. Checked before the ids reach SQL. -#}
{%- macro campaign_segments() -%}
    {%- set value = var('campaign_segments') -%}
    {%- if value is none or value == '' -%}
        {%- set value = [] -%}
    {%- elif value is string or value is number -%}
        {%- set value = [value] -%}
    {%- endif -%}
    {%- set segments = [] -%}
    {%- for item in value -%}
        {%- if not modules.re.fullmatch('[0-9]{1,9}', item | string) -%}
            {{ exceptions.raise_compiler_error(
                "var campaign_segments=" ~ var('campaign_segments') ~ " is not allowed: use a "
                ~ "list of cluster ids (integers >= 0), e.g. [0, 2], or [] for every segment"
            ) }}
        {%- endif -%}
        {%- do segments.append(item | int) -%}
    {%- endfor -%}
    {{ return(segments) }}
{%- endmacro -%}
