{#- The adapter tail of the procedure's Python script: sp_execute_external_script hands the
    input query's rows over as the DataFrame `my_input_data` and returns the DataFrame
    `OutputDataSet`. k, seed and n_init come from the dbt vars, checked here so that a bad
    value stops the deploy with a message instead of failing inside SQL Server. -#}
{%- macro clustering_script_call() -%}
    {%- set params = {} -%}
    {%- for name, minimum in [('n_clusters', 1), ('random_state', 0), ('n_init', 1)] -%}
        {%- set value = var(name) | string | trim -%}
        {%- if not value.isdigit() or value | int < minimum -%}
            {{ exceptions.raise_compiler_error(
                'var ' ~ name ~ ' must be an integer >= ' ~ minimum ~ ', got ' ~ value
            ) }}
        {%- endif -%}
        {%- do params.update({name: value | int}) -%}
    {%- endfor -%}
# SQL Server adapter: my_input_data in, OutputDataSet out (sp_execute_external_script).
OutputDataSet = cluster_customers(
    my_input_data,
    KMeansParams(
        n_clusters={{ params.n_clusters }},
        random_state={{ params.random_state }},
        n_init={{ params.n_init }},
    ),
)
{%- endmacro -%}
