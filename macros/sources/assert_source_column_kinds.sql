{#- Stop the run or build when a column the staging models read (one with `meta.kind` in
    _tpcxbb__sources.yml) is missing or of the wrong type family, naming table.column, its
    type and the family expected: otherwise dbt reports the first expression that cannot
    take it (a text ss_net_paid surfaces as "an error in the unit test definition").
    One catalog query per table. `relations` holds {node, relation} of tables that exist. -#}
{%- macro assert_source_column_kinds(relations) -%}
    {%- set wanted = {'integer': 'an integer', 'number': 'a number', 'text': 'text'} -%}
    {%- set problems = [] -%}
    {%- for found in relations -%}
        {%- set node = found.node -%}
        {%- set actual = {} -%}
        {%- for column in adapter.get_columns_in_relation(found.relation) -%}
            {%- do actual.update({column.name | lower: column}) -%}
        {%- endfor -%}
        {%- for name, declared in node.columns.items() if declared.meta.kind is defined -%}
            {%- set expected = declared.meta.kind -%}
            {%- set where = node.schema ~ '.' ~ node.identifier ~ '.' ~ name -%}
            {%- if expected not in wanted -%}
                {{ exceptions.raise_compiler_error(
                    where ~ ': meta kind must be one of ' ~ wanted.keys() | join(', ')
                ) }}
            {%- endif -%}
            {%- set column = actual.get(name | lower) -%}
            {%- if column is none -%}
                {%- do problems.append(where ~ ' is missing (expected ' ~ wanted[expected] ~ ')') -%}
            {%- else -%}
                {%- set kind = source_type_kind(column.dtype, column.numeric_scale) -%}
                {%- if not (kind == expected or (expected == 'number' and kind == 'integer')) -%}
                    {%- do problems.append(
                        where ~ ' is ' ~ column.dtype ~ ', expected ' ~ wanted[expected]
                    ) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            'Source column(s) of the wrong type, nothing was built or published:\n- '
            ~ problems | join('\n- ')
            ~ '\nFix the column type where the table is loaded (the staging models read the'
            ~ ' columns as they are).'
        ) }}
    {%- endif -%}
{%- endmacro -%}
