{#- Rows whose value begins or ends with a blank (NULLs pass). A '|' is added at each end
    before matching, since T-SQL's LIKE ignores trailing blanks of the value it matches. The
    failing rows carry no value: the column may hold PII. -#}
{% test trimmed(model, column_name) %}

with

untrimmed as (
    select 1 as untrimmed_row
    from {{ model }}
    where
        {{ dbt.concat([column_name, "'|'"]) }} like '% |'
        or {{ dbt.concat(["'|'", column_name]) }} like '| %'
)

select * from untrimmed

{% endtest %}
