{#- The tutorial's ratio: returned / ordered as a float, 0 where nothing was ordered or
    nothing returned, rounded to 7 places. Casting both sides to a double first gives the same
    answer on every target: T-SQL's decimal division of two money sums keeps only 6
    decimals, DuckDB's divides in double precision. -#}
{%- macro return_ratio(returned, ordered) -%}
    round(
        coalesce(
            cast({{ returned }} as {{ type_double() }})
            / nullif(cast({{ ordered }} as {{ type_double() }}), 0),
            0
        ),
        7
    )
{%- endmacro -%}
