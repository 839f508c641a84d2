{#- The SQL Server procedures that run the segment model in Machine Learning Services. Each is
    `sp_execute_external_script` with the generated core (`segment_model_script`) plus one
    call of `customer_segmentation.core.procedures`, the features as input (the tutorial's
    procedure recomputes them from the live source tables with the feature models' own SQL,
    `customer_return_features_query`, as apps expect; the build's training and transitions
    procedures read the feature table the build has just made), the registry
    rows of a run handed over through `@params` as JSON, and `WITH RESULT SETS` typed by the
    YAML columns of the model that stores the result, so the two cannot drift. -#}

{#- The two-part name of a procedure in the target schema, quoted for T-SQL. -#}
{%- macro procedure_relation(name) -%}
    {{ return(api.Relation.create(
        database=target.database, schema=target.schema, identifier=name
    ).include(database=false)) }}
{%- endmacro -%}

{#- The relation a model of this project builds, from the manifest (no ref: a procedure's
    text is rendered inside other models and run-operations). -#}
{%- macro model_relation(model_name) -%}
    {%- if not execute -%}
        {{ return(api.Relation.create(identifier=model_name)) }}
    {%- endif -%}
    {%- set node = graph.nodes['model.customer_segmentation.' ~ model_name] -%}
    {{ return(api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias
    )) }}
{%- endmacro -%}

{#- The relation of a seed of this project, from the manifest. -#}
{%- macro seed_relation(seed_name) -%}
    {%- if not execute -%}
        {{ return(api.Relation.create(identifier=seed_name)) }}
    {%- endif -%}
    {%- set node = graph.nodes['seed.customer_segmentation.' ~ seed_name] -%}
    {{ return(api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias
    )) }}
{%- endmacro -%}

{#- A gate threshold var, validated, as a T-SQL literal in plain decimal (never 4e-05). -#}
{%- macro gate_threshold(name) -%}
    {{ return(segment_model_settings()[name]) }}
{%- endmacro -%}

{#- (name, data_type) of every YAML column of a model, in order: the procedures' result sets. -#}
{%- macro model_column_types(model_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set node = graph.nodes['model.customer_segmentation.' ~ model_name] -%}
    {%- set columns = [] -%}
    {%- for name, column in node.columns.items() -%}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error(
                model_name ~ '.' ~ name ~ ' needs a data_type in YAML: it types a procedure result'
            ) }}
        {%- endif -%}
        {%- do columns.append((name, column.data_type)) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro -%}

{#- Stop with a message naming the setting when the instance cannot run Python at all. -#}
{%- macro ml_services_checks() -%}
    if isnull(cast(serverproperty('IsAdvancedAnalyticsInstalled') as int), 0) <> 1
        throw 50001, N'Machine Learning Services is not installed on this instance (SERVERPROPERTY(''IsAdvancedAnalyticsInstalled'') = 0): install it with Python, then run sqlserver/setup.sql', 1;
    if isnull((select cast(value_in_use as int) from sys.configurations where name = N'external scripts enabled'), 0) <> 1
        throw 50002, N'external scripts are disabled: the server configuration option ''external scripts enabled'' is 0. Run EXEC sp_configure ''external scripts enabled'', 1; RECONFIGURE WITH OVERRIDE; (sqlserver/setup.sql) and restart the SQL Server Launchpad service', 1;
{%- endmacro -%}

{#- Stop, listing the known runs, when run `@run_variable` is not in the registry. -#}
{%- macro unknown_run_check(registry, run_variable) -%}
    if not exists (select 1 from {{ registry }} where run_id = {{ run_variable }})
    begin
        declare @known_runs nvarchar(max) = (
            select string_agg(cast(runs.run_id as nvarchar(20)), N', ')
                within group (order by runs.run_id)
            from (select distinct run_id from {{ registry }}) as runs
        );
        declare @unknown_run nvarchar(2048) = concat(
            N'model_run_id=', {{ run_variable }}, N' is not in the model registry (runs: ',
            isnull(@known_runs, N'none'), N'); nothing was changed'
        );
        throw 50003, @unknown_run, 1;
    end;
{%- endmacro -%}

{#- Stop when run `@run_variable` was rejected by its quality gates: it is never served. -#}
{%- macro rejected_run_check(registry, run_variable) -%}
    if exists (
        select 1 from {{ registry }}
        where run_id = {{ run_variable }} and {{ run_passed_gates_flag() }} = 0
    )
    begin
        declare @rejected_run nvarchar(2048) = concat(
            N'model_run_id=', {{ run_variable }},
            N' was rejected by its quality gates and is never served (',
            (select max(gate_failures) from {{ registry }} where run_id = {{ run_variable }}),
            N'); pin a run that passed'
        );
        throw 50005, @rejected_run, 1;
    end;
{%- endmacro -%}

{#- The registry rows of run `run_variable` as a JSON array (FOR JSON PATH); floats as text
    with style 3 (17 significant digits), so the script sees every centroid bit for bit. -#}
{%- macro run_json_query(registry, run_variable) -%}
    select
    {%- for name, data_type in model_column_types('segment_model_registry_sqlserver') %}
        {%- if data_type | lower == 'float' %}
        convert(varchar(30), {{ name }}, 3) as {{ name }}
        {%- elif data_type | lower == 'datetime2' %}
        convert(varchar(33), {{ name }}, 126) as {{ name }}
        {%- else %}
        {{ name }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ registry }}
    where run_id = {{ run_variable }}
    for json path, include_null_values
{%- endmacro -%}

{#- The built feature table as a procedure's input: what a build trains and counts on, read
    once instead of aggregating the fact tables again. -#}
{%- macro feature_table_query() -%}
    select
    {%- for column in ['customer'] + segment_features() %}
        {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model_relation('customer_return_features') }}
{%- endmacro -%}

{#- sp_execute_external_script with the core and `call` on the rows of `input_query`;
    `params` maps each Python variable to (T-SQL type, T-SQL value); the result set is typed
    by `result_model`'s YAML. -#}
{%- macro external_script_call(call, params, result_model, input_query) -%}
    {%- set script = segment_model_script() ~ '\n# --- the procedure\'s call\n' ~ call ~ '\n' -%}
    {%- set declared = [] -%}
    {%- for name, type_and_value in params.items() -%}
        {%- do declared.append('@' ~ name ~ ' ' ~ type_and_value[0]) -%}
    {%- endfor -%}
    exec sp_execute_external_script
        @language = N'Python',
        @script = N'{{ script | replace("'", "''") }}',
        @input_data_1 = N'{{ input_query | replace("'", "''") }}',
        @input_data_1_name = N'my_input_data',
        @params = N'{{ declared | join(", ") }}'
        {%- for name, type_and_value in params.items() %},
        @{{ name }} = {{ type_and_value[1] }}
        {%- endfor %}
    with result sets ((
    {%- for name, data_type in model_column_types(result_model) %}
        [{{ name }}] {{ data_type }}{{ ',' if not loop.last }}
    {%- endfor %}
    ));
{%- endmacro -%}

{#- The tutorial's procedure: every customer with the features and the stable segment id of
    the current model (`@model_run_id`, else the registry's latest run that passed its quality
    gates; a rejected run is refused), the tutorial's
    result set. Apps call it as in the tutorial: EXEC dbo.py_generate_customer_return_clusters -#}
{%- macro py_generate_customer_return_clusters_sql() -%}
{%- set registry = model_relation('segment_model_registry_sqlserver') -%}
create or alter procedure {{ procedure_relation('py_generate_customer_return_clusters') }}
    @model_run_id bigint = null
as
begin
    set nocount on;
    {{ ml_services_checks() }}
    declare @run_id bigint = coalesce(
        @model_run_id, {{ latest_passed_run_id(registry) }}
    );
    if @run_id is null
        throw 50004, N'no segment model: segment_model_registry has no run that passed its quality gates yet; train one with dbt build --target sqlserver', 1;
    {{ unknown_run_check(registry, '@run_id') }}
    {{ rejected_run_check(registry, '@run_id') }}
    declare @model_json nvarchar(max) = (
        {{ run_json_query(registry, '@run_id') | indent(8) }}
    );
    {{ external_script_call(
        'OutputDataSet = score_from_procedure(my_input_data, model_json)',
        {'model_json': ('nvarchar(max)', '@model_json')},
        'customer_clusters_sqlserver',
        customer_return_features_query(),
    ) }}
end
{%- endmacro -%}

{#- Training: the registry rows this build appends (a new run when the retrain policy finds a
    reason, else none; nothing when `@model_run_id` pins a run), the same core and policy as
    the Python model on DuckDB. Defaults are the dbt vars at deploy time. -#}
{%- macro py_train_customer_segment_model_sql() -%}
{%- set registry = model_relation('segment_model_registry_sqlserver') -%}
{%- set settings = segment_model_settings() -%}
create or alter procedure {{ procedure_relation('py_train_customer_segment_model') }}
    @n_clusters int = {{ settings.n_clusters }},
    @random_state int = {{ settings.random_state }},
    @n_init int = {{ settings.n_init }},
    @scale_features bit = {{ settings.scale_features }},
    @retrain bit = {{ settings.retrain }},
    @retrain_after_days float = {{ settings.retrain_after_days }},
    @max_fit_drift float = {{ settings.max_fit_drift }},
    @silhouette_sample_size int = {{ settings.silhouette_sample_size }},
    @outlier_quantile float = {{ settings.outlier_quantile }},
    @min_segment_share float = {{ gate_threshold('min_segment_share') }},
    @min_silhouette float = {{ gate_threshold('min_silhouette') }},
    @max_davies_bouldin float = {{ gate_threshold('max_davies_bouldin') }},
    @full_refresh bit = 0,
    @model_run_id bigint = null
as
begin
    set nocount on;
    if @model_run_id is not null
    begin
        {{ unknown_run_check(registry, '@model_run_id') | indent(4) }}
        {{ rejected_run_check(registry, '@model_run_id') | indent(4) }}
        return;
    end;
    {{ ml_services_checks() }}
    -- The current model, which a new run's ids are matched to: the latest run that passed.
    declare @current_run_id bigint = {{ latest_passed_run_id(registry) }};
    declare @next_run_id bigint = isnull((select max(run_id) from {{ registry }}), 0) + 1;
    -- The segment ids that have a name: a run with an unnamed segment fails its gates.
    declare @named_segments nvarchar(max) = (
        select string_agg(cast(segment_id as nvarchar(20)), N',')
        from {{ seed_relation('segments') }}
    );
    declare @current_model nvarchar(max) = (
        {{ run_json_query(registry, '@current_run_id') | indent(8) }}
    );
    {{ external_script_call(
        'OutputDataSet = train_from_procedure(my_input_data, current_model_json, next_run_id, '
        ~ 'n_clusters, random_state, n_init, scale_features, retrain, retrain_after_days, '
        ~ 'max_fit_drift, full_refresh, silhouette_sample_size, outlier_quantile, '
        ~ 'min_segment_share, min_silhouette, max_davies_bouldin, named_segments)',
        {
            'current_model_json': ('nvarchar(max)', '@current_model'),
            'next_run_id': ('bigint', '@next_run_id'),
            'n_clusters': ('int', '@n_clusters'),
            'random_state': ('int', '@random_state'),
            'n_init': ('int', '@n_init'),
            'scale_features': ('bit', '@scale_features'),
            'retrain': ('bit', '@retrain'),
            'retrain_after_days': ('float', '@retrain_after_days'),
            'max_fit_drift': ('float', '@max_fit_drift'),
            'full_refresh': ('bit', '@full_refresh'),
            'silhouette_sample_size': ('int', '@silhouette_sample_size'),
            'outlier_quantile': ('float', '@outlier_quantile'),
            'min_segment_share': ('float', '@min_segment_share'),
            'min_silhouette': ('float', '@min_silhouette'),
            'max_davies_bouldin': ('float', '@max_davies_bouldin'),
            'named_segments': ('nvarchar(max)', '@named_segments'),
        },
        'segment_model_registry_sqlserver',
        feature_table_query(),
    ) }}
end
{%- endmacro -%}

{#- Transitions: for the registry's latest run that passed its gates, if it has a previous run and is not recorded
    in `transitions` yet, the customers per (previous segment, new segment); else nothing. -#}
{%- macro py_segment_transitions_sql() -%}
{%- set registry = model_relation('segment_model_registry_sqlserver') -%}
{%- set transitions = model_relation('segment_transitions_sqlserver') -%}
create or alter procedure {{ procedure_relation('py_segment_transitions') }}
as
begin
    set nocount on;
    declare @run_id bigint = {{ latest_passed_run_id(registry) }};
    declare @previous_run_id bigint = (
        select max(previous_run_id) from {{ registry }} where run_id = @run_id
    );
    if @previous_run_id is null
        or exists (select 1 from {{ transitions }} where run_id = @run_id)
        return;
    {{ ml_services_checks() }}
    declare @previous_model nvarchar(max) = (
        {{ run_json_query(registry, '@previous_run_id') | indent(8) }}
    );
    declare @current_model nvarchar(max) = (
        {{ run_json_query(registry, '@run_id') | indent(8) }}
    );
    {{ external_script_call(
        'OutputDataSet = transitions_from_procedure(my_input_data, previous_model_json, '
        ~ 'current_model_json)',
        {
            'previous_model_json': ('nvarchar(max)', '@previous_model'),
            'current_model_json': ('nvarchar(max)', '@current_model'),
        },
        'segment_transitions_sqlserver',
        feature_table_query(),
    ) }}
end
{%- endmacro -%}

{#- The arguments of `exec py_train_customer_segment_model` for this invocation. -#}
{%- macro segment_model_procedure_args() -%}
    {%- set settings = segment_model_settings() -%}
    {%- set pinned = pinned_model_run_id() -%}
    {%- set args = [] -%}
    {%- for name in [
        'n_clusters', 'random_state', 'n_init', 'scale_features', 'retrain',
        'retrain_after_days', 'max_fit_drift', 'silhouette_sample_size', 'outlier_quantile'
    ] -%}
        {%- do args.append('@' ~ name ~ ' = ' ~ settings[name]) -%}
    {%- endfor -%}
    {%- for name in ['min_segment_share', 'min_silhouette', 'max_davies_bouldin'] -%}
        {%- do args.append('@' ~ name ~ ' = ' ~ gate_threshold(name)) -%}
    {%- endfor -%}
    {%- do args.append('@full_refresh = ' ~ (1 if flags.FULL_REFRESH else 0)) -%}
    {%- do args.append('@model_run_id = ' ~ (pinned if pinned is not none else 'null')) -%}
    {{ return(args | join(',\n    ')) }}
{%- endmacro -%}
