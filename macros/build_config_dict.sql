{#- dbt's build_config_dict(model), which writes a Python model's config into its compiled
    code, plus the run-time flag `--full-refresh` as the config key `dbt_full_refresh`
    (a Python bool). segment_model_registry has full_refresh: false, so under --full-refresh
    it stays incremental and has no other way to know the flag was given. -#}
{%- macro build_config_dict(model) -%}
{{ dbt.build_config_dict(model) }}
config_dict["dbt_full_refresh"] = {{ "True" if flags.FULL_REFRESH else "False" }}
{% endmacro -%}
