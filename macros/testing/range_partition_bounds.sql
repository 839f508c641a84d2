{#- Half-open ranges [low, high) of an integer column that together cover every non-NULL
    value of `model` above `above` (when given), about `rows_per_partition` rows each if the
    values are spread evenly; [] for one unpartitioned query. Dispatched: on DuckDB, tables
    stored in key order (dsdgen's and the appended days' tickets) let each range skip the
    other row groups, so many small aggregates beat one large one. Elsewhere [], since each
    range could be a full scan. -#}
{%- macro range_partition_bounds(model, column, rows_per_partition, above=none) -%}
    {{ return(adapter.dispatch('range_partition_bounds', 'customer_segmentation')(
        model, column, rows_per_partition, above
    )) }}
{%- endmacro -%}

{%- macro default__range_partition_bounds(model, column, rows_per_partition, above=none) -%}
    {{ return([]) }}
{%- endmacro -%}

{%- macro duckdb__range_partition_bounds(model, column, rows_per_partition, above=none) -%}
    {%- if not execute or not flags.INTROSPECT -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set stats = run_query(
        'select count(' ~ column ~ '), min(' ~ column ~ '), max(' ~ column ~ ') from ' ~ model
        ~ (' where ' ~ column ~ ' > ' ~ above if above is not none else '')
    ) -%}
    {%- set per_partition = rows_per_partition | int -%}
    {%- if per_partition < 1 -%}
        {{ exceptions.raise_compiler_error(
            "range_partition_bounds: rows_per_partition must be a positive integer, got '"
            ~ rows_per_partition ~ "'"
        ) }}
    {%- endif -%}
    {%- set rows = stats.columns[0].values()[0] | int -%}
    {%- set partitions = ((rows + per_partition - 1) // per_partition) | int -%}
    {%- if partitions < 2 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set low = stats.columns[1].values()[0] | int -%}
    {%- set high = (stats.columns[2].values()[0] | int) + 1 -%}
    {%- set step = ((high - low + partitions - 1) // partitions) | int -%}
    {%- set bounds = [] -%}
    {%- for start in range(low, high, step) -%}
        {%- do bounds.append([start, [start + step, high] | min]) -%}
    {%- endfor -%}
    {{ return(bounds) }}
{%- endmacro -%}
