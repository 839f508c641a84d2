{#- Keys whose label in this model differs from the label another model gives them, or that
    only one of the two models labels: SQL scoring and the Python model's predict must put
    every customer in the same segment. -#}
{% test labels_agree_with(model, column_name, key, to, to_key, to_column) %}

{#- About both whole tables (a key only one of them labels): a nightly build checks every
    row, not only the changed ones (get_where_subquery). -#}
{{ config(meta={'nightly_scope': 'full'}) }}

with

labels as (
    select
        {{ key }} as label_key,
        {{ column_name }} as label
    from {{ model }}
),

other_labels as (
    select
        {{ to_key }} as label_key,
        {{ to_column }} as label
    from {{ to }}
),

disagreements as (
    select
        coalesce(labels.label_key, other_labels.label_key) as label_key,
        labels.label,
        other_labels.label as other_label
    from labels
    full outer join other_labels
        on labels.label_key = other_labels.label_key
    where
        labels.label_key is null
        or other_labels.label_key is null
        or labels.label <> other_labels.label
)

select * from disagreements

{% endtest %}
