{#- Run before every build: stop at once, naming the table and the fix, when a source table
    is missing, instead of letting the first staging view fail with a catalog error. -#}
{%- macro assert_sources_exist(source_name='tpcxbb') -%}
    {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
        {%- set missing = [] -%}
        {%- for node in graph.sources.values() if node.source_name == source_name -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.identifier
            ) -%}
            {%- if relation is none -%}
                {%- do missing.append(node.schema ~ '.' ~ node.identifier) -%}
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
    {%- endif -%}
{%- endmacro -%}
