{#- The stamp of a published list: which clustering it came from. Until a model registry
    exists it is the build time of the cluster table (UTC, ISO 8601 text); switch it to the
    registry's run id here, in this one place. -#}
{%- macro model_stamp() -%}
    coalesce(
        (select max(cluster_table_builds.built_at)
            from {{ target.schema }}.cluster_table_builds as cluster_table_builds),
        'unrecorded'
    )
{%- endmacro -%}
