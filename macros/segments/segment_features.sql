{#- The features the segment model is trained on, in the order the Python core sees them
    (customer_segmentation.clustering.FEATURE_COLUMNS): SQL scoring adds the squared
    differences in this order, so it repeats the core's arithmetic exactly. -#}
{%- macro segment_features() -%}
    {{ return(['orderRatio', 'itemsRatio', 'monetaryRatio', 'frequency']) }}
{%- endmacro -%}
