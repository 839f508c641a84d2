{#- The segment model's vars as T-SQL literals, for the procedures' defaults and call
    arguments. Each value comes from validated_var (macros/vars/validated_var.sql), so it is
    checked by type and range before it gets here; this macro only spells it for T-SQL:
    integers as digits, booleans as 1/0, decimals in plain decimal (0.00004, never 4e-05).
    Python does not validate vars again: the clusterer checks its own parameters when it
    fits, as a scikit-learn estimator does. -#}
{%- macro segment_model_settings() -%}
    {%- set settings = {} -%}
    {%- for name in ['n_clusters', 'random_state', 'n_init', 'silhouette_sample_size'] -%}
        {%- do settings.update({name: validated_var(name)}) -%}
    {%- endfor -%}
    {%- for name in ['scale_features', 'retrain'] -%}
        {%- do settings.update({name: 1 if validated_var(name) else 0}) -%}
    {%- endfor -%}
    {%- for name in [
        'retrain_after_days', 'max_fit_drift', 'outlier_quantile',
        'min_segment_share', 'min_silhouette', 'max_davies_bouldin'
    ] -%}
        {%- do settings.update({name: plain_decimal(validated_var(name))}) -%}
    {%- endfor -%}
    {{ return(settings) }}
{%- endmacro -%}
