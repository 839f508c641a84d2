{#- Pre-hook of int_campaign_recipients_screened: stop the build before the screening, and so
    every list, the holdout, the exclusions and the history, is rebuilt when var
    `campaign_segments` names a segment id the current model does not have or the `segments`
    seed does not name. Such a campaign would otherwise publish an empty or partial list and
    exit 0. Renders no SQL. -#}
{%- macro assert_campaign_segments_exist() -%}
    {%- set wanted = campaign_segments() -%}
    {%- if execute and wanted -%}
        {%- set current = ref('int_segment_centroids_current') -%}
        {%- set in_model = run_query(
            'select distinct segment_id from ' ~ current
        ).columns[0].values() | reject('none') | map('int') | list -%}
        {%- set named = run_query(
            'select segment_id from ' ~ ref('segments')
        ).columns[0].values() | reject('none') | map('int') | list -%}
        {%- set known = in_model | select('in', named) | unique | sort | list -%}
        {%- set unknown = wanted | reject('in', known) | unique | sort | list -%}
        {%- if unknown -%}
            {%- set reasons = [] -%}
            {%- for segment in unknown -%}
                {%- if segment not in in_model -%}
                    {%- do reasons.append(segment ~ ' (not a segment of the current model)') -%}
                {%- else -%}
                    {%- do reasons.append(segment ~ ' (no row in the segments seed)') -%}
                {%- endif -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                'var campaign_segments names unknown segment(s): ' ~ reasons | join(', ')
                ~ '. Known segments: ' ~ (known | join(', ') or 'none')
                ~ '. Nothing was published: the previous lists are kept.'
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro -%}
