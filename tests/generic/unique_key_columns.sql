{#- Rows whose combination of key columns is not unique: one row per duplicated combination.
    dbt-utils' unique_combination_of_columns checks the same rule, but this test has options
    of its own (below), so it has a name of its own (no dbt packages can be installed here).

    Two options for fact tables of many millions of rows:
    - `new_rows_after`: {column, watermark_model, watermark_column}. A nightly `dbt build`
      checks only the rows an incremental model has not consumed yet, e.g. store_sales lines
      on tickets above the highest ticket int_customer_orders has aggregated. Keys only grow,
      so a new row cannot repeat an old one; old rows were checked by the build that first
      aggregated them. `dbt test`, `--full-refresh` and a first build check every row
      (incremental_test_watermark).
    - `range_partitions`: {column, rows_per_partition}, `column` one of `combination`. The
      check runs as one aggregate per range of `column` (duplicates share its value, so they
      meet in one range), each with a hash table that fits in cache (the timing is in
      _tpcxbb__sources.yml, beside the test). DuckDB only; see range_partition_bounds. -#}
{% test unique_key_columns(
    model, combination, new_rows_after=none, range_partitions=none
) %}

{%- set watermark = none -%}
{%- if new_rows_after is not none -%}
    {%- set watermark = incremental_test_watermark(
        new_rows_after.watermark_model, new_rows_after.watermark_column
    ) -%}
{%- endif -%}
{%- set ranges = [none] -%}
{%- if range_partitions is not none -%}
    {%- if range_partitions.column not in combination -%}
        {{ exceptions.raise_compiler_error(
            "unique_key_columns: range_partitions.column '"
            ~ range_partitions.column ~ "' must be one of the combination " ~ combination
        ) }}
    {%- endif -%}
    {%- set bounds = range_partition_bounds(
        model, range_partitions.column, range_partitions.rows_per_partition, watermark
    ) -%}
    {%- if bounds | length > 0 -%}
        {%- set ranges = bounds -%}
    {%- endif -%}
{%- endif %}

with

{% for range in ranges -%}
duplicated_combinations_{{ loop.index }} as (
    select
        {{ combination | join(',\n        ') }},
        count(*) as occurrences
    from {{ model }}
    where
        1 = 1
        {%- if watermark is not none %}
        and {{ new_rows_after.column }} > {{ watermark }}
        {%- endif %}
        {%- if range is not none %}
        and {{ range_partitions.column }} >= {{ range[0] }}
        and {{ range_partitions.column }} < {{ range[1] }}
        {%- endif %}
    group by
        {{ combination | join(',\n        ') }}
    having count(*) > 1
),

{% endfor -%}
duplicated_combinations as (
    {%- for range in ranges %}
    select * from duplicated_combinations_{{ loop.index }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from duplicated_combinations

{% endtest %}
