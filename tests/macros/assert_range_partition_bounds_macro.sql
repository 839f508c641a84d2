-- Rule: on DuckDB, range_partition_bounds splits the values of an integer column (above the
-- watermark, when given) into consecutive half-open ranges [low, high) that start at the
-- lowest value, end past the highest and hold about rows_per_partition values each; one
-- range or fewer is [] (one unpartitioned query). Other targets always get [].
{%- set numbers = '(select range as k from range(1, 101)) as numbers' %}
{%- set examples = [
    (25, none, [[1, 26], [26, 51], [51, 76], [76, 101]]),
    (30, none, [[1, 26], [26, 51], [51, 76], [76, 101]]),
    ('40', none, [[1, 35], [35, 69], [69, 101]]),
    (20, 50, [[51, 68], [68, 85], [85, 101]]),
    (100, none, []),
    (1000, none, []),
    (25, 90, []),
] %}
with

cases as (
    {%- for rows_per_partition, above, bounds in examples %}
        select
            '{{ rows_per_partition }} rows above {{ above }}' as partitioning,
            '{{ (bounds if target.type == "duckdb" else []) | tojson }}' as expected,
            '{{ range_partition_bounds(numbers, "k", rows_per_partition, above) | tojson }}'
                as actual
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from cases
where actual <> expected
