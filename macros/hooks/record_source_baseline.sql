{#- on-run-end: when a run or build finished without a failure, log what each source table
    holds now, for the next run's guard, and commit. Nothing else writes the log: not a
    failed build, nor compile, docs, test, seed, nor a --full-refresh of a selection. -#}
{%- macro record_source_baseline(results, source_name='tpcxbb') -%}
    {%- if execute and flags.WHICH in ['run', 'build'] -%}
        {%- set failures = ['error', 'fail', 'runtime error', 'skipped', 'partial success'] -%}
        {%- set failed = [] -%}
        {%- for result in results if result.status | string | lower in failures -%}
            {%- do failed.append(result) -%}
        {%- endfor -%}
        {%- if failed -%}
            {{ log('Source log kept as the last successful build left it: this one failed.') }}
            {{ return('') }}
        {%- endif -%}
        {#- A --full-refresh skipped the comparison: its state becomes the baseline only if it
            recomputed every incremental model (not a `--select` of a few). -#}
        {%- if flags.FULL_REFRESH -%}
            {%- set rebuilt = [] -%}
            {%- for result in results -%}
                {%- do rebuilt.append(result.node.unique_id) -%}
            {%- endfor -%}
            {%- for node in graph.nodes.values()
                if node.resource_type == 'model'
                and node.config.materialized == 'incremental'
                and node.config.full_refresh is not false
                and node.unique_id not in rebuilt -%}
                {{ log('Source log kept: this --full-refresh did not rebuild ' ~ node.name ~ '.') }}
                {{ return('') }}
            {%- endfor -%}
        {%- endif -%}
        {%- set relations = [] -%}
        {%- for node in graph.sources.values() | sort(attribute='name')
            if node.source_name == source_name -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.identifier
            ) -%}
            {%- if relation is not none -%}
                {%- do relations.append({'node': node, 'relation': relation}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not relations -%}
            {{ return('') }}
        {%- endif -%}
        {%- set built_at = run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
        {%- call statement('create_source_build_log') -%}
            {{ source_build_log_ddl() }}
        {%- endcall -%}
        {%- call statement('record_source_baseline') -%}
            insert into {{ target.schema }}.source_table_builds (
                built_at,
                invocation_id,
                source_table,
                row_count,
                max_key
            )
            {% for table in source_guard_tables(relations) -%}
                select
                    '{{ built_at }}',
                    '{{ invocation_id }}',
                    '{{ table.name }}',
                    {{ count_rows() }},
                    {{ 'max(' ~ table.key ~ ')' if table.key is not none else 'null' }}
                from {{ table.relation }}
                {% if not loop.last %}union all{% endif %}
            {% endfor %}
        {%- endcall -%}
        {#- The statement opened a transaction on every target (dbt-duckdb's, and SQL Server's
            with dbt_sqlserver_use_dbt_transactions), and dbt ends a hook's transaction by
            rolling it back: commit it here. -#}
        {%- do adapter.commit() -%}
    {%- endif -%}
{%- endmacro -%}
