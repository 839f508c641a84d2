{#- The source guard (docs/incremental.md). The incremental feature models trust
    that sources only grow, by new tickets: a source emptied, shrunk, or given rows on tickets
    already aggregated would otherwise build "successfully" from stale aggregates. So every
    run and build first compares each source table with what the last successful run or
    build saw (the log `source_table_builds`, written by record_source_baseline at the end of
    a build without failures) and stops, naming the table and the fix, before anything is
    built. `--full-refresh` recomputes every aggregate from the sources as they are: it
    accepts a deliberate change (it skips the comparison) and the log takes the new state. -#}


{#- The source tables with what the guard needs from their YAML (_tpcxbb__sources.yml):
    `relations` holds {node, relation} of tables that exist. Raises on a malformed meta: it
    is spliced into SQL. -#}
{%- macro source_guard_tables(relations) -%}
    {%- set identifier = '[A-Za-z_][A-Za-z0-9_]*' -%}
    {%- set tables = [] -%}
    {%- for found in relations -%}
        {%- set node = found.node -%}
        {%- set meta = node.meta or {} -%}
        {%- set name = node.schema ~ '.' ~ node.identifier -%}
        {%- set key = meta.get('guard_key') -%}
        {%- set late_rows = meta.get('late_rows', 'allow') -%}
        {%- if key is not none and not modules.re.fullmatch(identifier, key | string) -%}
            {{ exceptions.raise_compiler_error(name ~ ': meta guard_key must be a column name') }}
        {%- endif -%}
        {%- if late_rows not in ['allow', 'refuse'] -%}
            {{ exceptions.raise_compiler_error(name ~ ': meta late_rows must be allow or refuse') }}
        {%- endif -%}
        {%- set bounded = [] -%}
        {%- for column_name, column in node.columns.items() if column.meta.max_abs is defined -%}
            {%- set bound = column.meta.max_abs -%}
            {%- if bound is not number or bound <= 0
                or not modules.re.fullmatch(identifier, column_name) -%}
                {{ exceptions.raise_compiler_error(
                    name ~ '.' ~ column_name ~ ': meta max_abs must be a positive number'
                ) }}
            {%- endif -%}
            {%- do bounded.append({'column': column_name, 'bound': bound | int}) -%}
        {%- endfor -%}
        {%- do tables.append({
            'name': name,
            'relation': found.relation,
            'key': key,
            'late_rows': late_rows,
            'bounded': bounded,
        }) -%}
    {%- endfor -%}
    {{ return(tables) }}
{%- endmacro -%}


{#- What the last successful run or build saw of each source table: {schema.table: {rows,
    max_key}}; {} before the first one. -#}
{%- macro source_build_baseline() -%}
    {%- set log = adapter.get_relation(
        database=target.database, schema=target.schema, identifier='source_table_builds'
    ) -%}
    {%- set baseline = {} -%}
    {%- if log is none -%}
        {{ return(baseline) }}
    {%- endif -%}
    {%- set query -%}
        select
            builds.source_table,
            builds.row_count,
            builds.max_key
        from {{ target.schema }}.source_table_builds as builds
        where builds.built_at = (
            select max(latest.built_at)
            from {{ target.schema }}.source_table_builds as latest
            where latest.source_table = builds.source_table
        )
    {%- endset -%}
    {%- for row in run_query(query).rows if row[0] is not none and row[1] is not none -%}
        {%- do baseline.update({row[0]: {
            'rows': row[1] | int,
            'max_key': none if row[2] is none else row[2] | int,
        }}) -%}
    {%- endfor -%}
    {{ return(baseline) }}
{%- endmacro -%}


{#- One scan of a source table: its rows, highest key, rows at or below the last build's
    highest key, and rows of each bounded column that are not finite or not below the bound
    (NaN fails `<`, so it counts; NULL does not). count/max only: DuckDB answers it with one
    pass over two or three columns. -#}
{%- macro source_guard_stats_query(table, last_key) -%}
    {%- set measures = [
        "'" ~ table.name ~ "' as source_table",
        count_rows() ~ ' as source_row_count',
    ] -%}
    {%- if table.key is not none -%}
        {%- do measures.append('max(' ~ table.key ~ ') as source_max_key') -%}
        {%- if last_key is not none -%}
            {%- do measures.append(
                count_rows(table.key ~ ' <= ' ~ (last_key | int)) ~ ' as source_rows_up_to_last_key'
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- for bounded in table.bounded -%}
        {%- do measures.append(
            count_rows('not (abs(' ~ bounded.column ~ ') < ' ~ bounded.bound ~ ')')
            ~ ' as source_out_of_bounds_' ~ loop.index
        ) -%}
    {%- endfor -%}
    select
        {{ measures | join(',\n        ') }}
    from {{ table.relation }}
{%- endmacro -%}


{%- macro _thousands(number) -%}
    {{ return('{:,}'.format(number | int)) }}
{%- endmacro -%}


{#- Stop the run or build, naming each problem, when a source table is empty, has values out
    of bounds, lost rows since the last successful build, or (late_rows: refuse) got rows
    at or below the highest key that build saw. -#}
{%- macro guard_source_changes(relations) -%}
    {#- Compared only where aggregates would be updated: `dbt test` stays free to diagnose
        (its line-key tests list the duplicates), --full-refresh recomputes them. -#}
    {%- set compare = flags.WHICH in ['run', 'build'] and not flags.FULL_REFRESH -%}
    {%- set baseline = source_build_baseline() if compare else {} -%}
    {%- set problems = [] -%}
    {%- set fixes = [] -%}
    {%- for table in source_guard_tables(relations) -%}
        {%- set last = baseline.get(table.name) -%}
        {%- set last_key = last.max_key if last is not none else none -%}
        {%- set row = run_query(source_guard_stats_query(table, last_key)).rows[0] -%}
        {%- set rows = row['source_row_count'] | int -%}
        {%- if rows == 0 -%}
            {%- do problems.append(
                table.name ~ ' is empty'
                ~ ('' if last is none else ' (the last successful build saw '
                    ~ _thousands(last.rows) ~ ' rows)')
                ~ ': nothing can be built from it. Load it again.'
            ) -%}
        {%- endif -%}
        {%- for bounded in table.bounded -%}
            {%- set bad = row['source_out_of_bounds_' ~ loop.index] | int -%}
            {%- if bad > 0 -%}
                {%- do problems.append(
                    table.name ~ '.' ~ bounded.column ~ ': ' ~ _thousands(bad)
                    ~ ' row(s) hold an amount that is not finite or not within +-'
                    ~ _thousands(bounded.bound)
                    ~ ' (TPC-DS amounts are decimal(7,2)). Correct or remove them.'
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if rows > 0 and last is not none -%}
            {%- if last_key is not none -%}
                {%- set kept = row['source_rows_up_to_last_key'] | int -%}
                {%- set scope = ' (' ~ table.key ~ ' <= ' ~ last_key ~ ')' -%}
            {%- else -%}
                {%- set kept = rows -%}
                {%- set scope = '' -%}
            {%- endif -%}
            {%- if kept < last.rows -%}
                {%- do problems.append(
                    table.name ~ ' shrank: ' ~ _thousands(last.rows - kept) ~ ' of the '
                    ~ _thousands(last.rows) ~ ' rows the last successful build saw' ~ scope
                    ~ ' are gone (' ~ _thousands(rows) ~ ' rows in all now): deleted, or'
                    ~ ' reloaded short.'
                ) -%}
                {%- do fixes.append(
                    'restore the missing rows, or, if the deletion is deliberate, rebuild with'
                    ~ ' `dbt build --full-refresh` (the incremental aggregates still count'
                    ~ ' deleted rows until they are recomputed)'
                ) -%}
            {%- elif kept > last.rows and table.late_rows == 'refuse' -%}
                {%- do problems.append(
                    table.name ~ ': ' ~ _thousands(kept - last.rows) ~ ' row(s) were added'
                    ~ ' on keys the last successful build had already loaded' ~ scope
                    ~ ': re-delivered or late lines. The incremental features take only keys'
                    ~ ' above the last one loaded, so they would count them twice or never.'
                ) -%}
                {%- do fixes.append(
                    'remove the re-delivered rows, or, after confirming they are genuine late'
                    ~ ' lines, rebuild with `dbt build --full-refresh` (which recounts every'
                    ~ ' ticket and checks every line key)'
                ) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            'Source check failed, nothing was built or published:\n- '
            ~ problems | join('\n- ')
            ~ ('' if not fixes else '\nFix: ' ~ (fixes | unique | join('; or ')) ~ '.')
        ) }}
    {%- endif -%}
{%- endmacro -%}
