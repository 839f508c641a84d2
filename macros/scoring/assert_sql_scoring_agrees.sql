{#- Pre-hook of the models that publish segments (customer_segments, the campaign
    screening): stop the build, before they are rebuilt, when SQL scoring
    (customer_segment_scores) and the cluster table (the Python model's, or the procedure's,
    predict) put any customer in different segments, or when a customer is in only one of
    them. A data test of the same rule has two parents and would skip neither model. -#}
{%- macro assert_sql_scoring_agrees() -%}
    {%- if execute and flags.WHICH in ['run', 'build'] -%}
        {%- set query -%}
            select
                count(*) as customers,
                min(coalesce(clusters.Customer, scores.customer)) as first_customer
            from {{ ref_customer_clusters() }} as clusters
            full outer join {{ ref('customer_segment_scores') }} as scores
                on clusters.Customer = scores.customer
            where
                clusters.Customer is null
                or scores.customer is null
                or clusters.cluster <> scores.segment_id
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {%- if row[0] | int > 0 -%}
            {{ exceptions.raise_compiler_error(
                (row[0] | int) ~ ' customers get another segment from SQL scoring'
                ~ ' (customer_segment_scores) than from the cluster table'
                ~ ' (py_customer_clusters), e.g. customer ' ~ (row[1] | int)
                ~ '; nothing was published. Rebuild both from the same registry run.'
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro -%}
