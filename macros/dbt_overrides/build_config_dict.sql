{#- dbt's build_config_dict(model), which writes a Python model's config into its compiled
    code, plus:
    - the vars the model's config lists under `validated_vars` ({config key: var name}), each
      as validated_var(var name), a Python literal under its config key: YAML configs are
      rendered without the project's macros, so this is where a Python model's vars are
      checked and typed (dbt.config.get(key) returns the int, float, bool or str);
    - the run-time flag `--full-refresh` as the config key `dbt_full_refresh` (a Python bool).
      segment_model_registry has full_refresh: false, so under --full-refresh it stays
      incremental and has no other way to know the flag was given;
    - this invocation's build stamp as the config key `dbt_build_stamp` (a string
      'YYYY-MM-DD HH:MM:SS.ffffff', run_started_at in UTC, the value build_stamp() renders):
      the `refreshed_at` an incremental Python model writes on the rows it (re)computes. -#}
{%- macro build_config_dict(model) -%}
{{ dbt.build_config_dict(model) }}
{%- for key, name in (model.config.get('validated_vars') or {}).items() %}
{%- set value = validated_var(name) %}
config_dict[{{ key | string | tojson }}] = {{ value | tojson if value is string else value }}
{%- endfor %}
config_dict["dbt_full_refresh"] = {{ "True" if flags.FULL_REFRESH else "False" }}
config_dict["dbt_build_stamp"] = {{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") | tojson }}
{% endmacro -%}
