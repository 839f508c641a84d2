{#- Run before every run, build and test: stop at once, naming the table and the fix, when a
    source table is missing, instead of letting the first staging view fail with a catalog
    error; then when a column the staging models read has the wrong type
    (assert_source_column_kinds), and when a table is empty, out of bounds or changed in a
    way the incremental models cannot follow (guard_source_changes, macros/sources/). -#}
{%- macro assert_sources_exist(source_name='tpcxbb') -%}
    {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
        {%- set missing = [] -%}
        {%- set found = [] -%}
        {%- for node in graph.sources.values() | sort(attribute='name')
            if node.source_name == source_name -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.identifier
            ) -%}
            {%- if relation is none -%}
                {%- do missing.append(node.schema ~ '.' ~ node.identifier) -%}
            {%- else -%}
                {%- do found.append({'node': node, 'relation': relation}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {%- if target.type == 'duckdb' -%}
                {%- set fix = 'Generate them with `make data` (TPC-DS dsdgen into ' ~ target.path ~ ').' -%}
            {%- else -%}
                {%- set fix = 'Restore the tpcxbb_1gb database and point the source_schema var at it.' -%}
            {%- endif -%}
            {{ exceptions.raise_compiler_error(
                'Source table(s) missing: ' ~ missing | join(', ') ~ '. ' ~ fix
            ) }}
        {%- endif -%}
        {%- do assert_source_column_kinds(found) -%}
        {%- do guard_source_changes(found) -%}
    {%- endif -%}
{%- endmacro -%}
