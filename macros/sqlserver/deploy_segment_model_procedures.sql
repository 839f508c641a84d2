{#- run-operation: create or alter the segment model's procedures on the SQL Server target
    (the tutorial's py_generate_customer_return_clusters, the training procedure and the
    transitions procedure), each alone in its batch. A build deploys each before calling it;
    this deploys them for apps without building. Refuses other targets. -#}
{%- macro deploy_segment_model_procedures() -%}
    {%- if target.type != 'sqlserver' -%}
        {{ exceptions.raise_compiler_error(
            'deploy_segment_model_procedures creates SQL Server procedures; target '
            ~ target.name ~ ' is ' ~ target.type ~ '. Use --target sqlserver.'
        ) }}
    {%- endif -%}
    {%- do adapter.create_schema(api.Relation.create(
        database=target.database, schema=target.schema
    )) -%}
    {%- for name in [
        'py_train_customer_segment_model',
        'py_generate_customer_return_clusters',
        'py_segment_transitions',
    ] -%}
        {%- call statement('deploy_' ~ name, fetch_result=false, auto_begin=false) -%}
            {{ context[name ~ '_sql']() }}
        {%- endcall -%}
        {%- do log('Deployed procedure ' ~ procedure_relation(name) ~ ' in database '
            ~ target.database, info=true) -%}
    {%- endfor -%}
{%- endmacro -%}
