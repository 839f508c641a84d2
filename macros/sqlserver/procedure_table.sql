{#- Materialization for a table filled by a stored procedure's result set (the model's SQL is
    `exec <procedure> ...`), as the tutorial's `INSERT INTO py_customer_clusters EXEC ...`:
    1. (re)deploy the procedure from the macro named by config `deploys_procedure`, so it
       always matches the code being built, alone in its batch (CREATE PROCEDURE opens one);
    2. create the table if missing, with the columns and data_type of the model's YAML, so a
       procedure that reads it (the registry reads itself) finds it on a fresh server;
    3. run the procedure into a temp table with XACT_ABORT on: a failing script aborts the
       batch there, before the table is touched;
    4. in one transaction: --full-refresh drops and recreates the table (unless the model has
       full_refresh: false), then `procedure_mode` 'replace' deletes the old rows, or
       'append' keeps them, and the new rows are inserted. Readers see the old content or
       the new, never a half-written table. -#}
{%- materialization procedure_table, adapter='sqlserver' -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set mode = config.get('procedure_mode', 'replace') -%}
    {%- if mode not in ['replace', 'append'] -%}
        {{ exceptions.raise_compiler_error(
            'procedure_table model ' ~ model['name'] ~ ': procedure_mode must be replace or append'
        ) }}
    {%- endif -%}
    {%- set columns = model_column_types(model['name']) -%}
    {%- set quoted = [] -%}
    {%- for name, data_type in columns -%}
        {%- do quoted.append('[' ~ name ~ ']') -%}
    {%- endfor -%}
    {%- set column_list = quoted | join(', ') -%}
    {%- set object_name = target_relation.schema ~ '.' ~ target_relation.identifier -%}
    {%- set staging_table = '#' ~ target_relation.identifier ~ '__dbt_new' -%}
    {%- set deploys = config.get('deploys_procedure') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {%- if deploys -%}
        {%- call statement('deploy_procedure', auto_begin=False) -%}
            {{ context[deploys]() }}
        {%- endcall -%}
    {%- endif -%}
    {%- call statement('create_if_missing') -%}
if object_id(N'{{ object_name }}', N'U') is null
begin
    {{ procedure_table_ddl(target_relation, columns) }}
end;
    {%- endcall -%}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- call statement('main') -%}
set nocount on;
set xact_abort on;
{{ procedure_table_ddl(staging_table, columns) }}

insert into {{ staging_table }} ({{ column_list }})
{{ sql | trim | trim(';') }};

begin try
    begin transaction;
    {%- if should_full_refresh() %}
    drop table if exists {{ target_relation }};
    {{ procedure_table_ddl(target_relation, columns) }}
    {%- endif %}
    {%- if mode == 'replace' %}
    delete from {{ target_relation }};
    {%- endif %}
    insert into {{ target_relation }} ({{ column_list }})
    select {{ column_list }} from {{ staging_table }};
    commit transaction;
end try
begin catch
    if @@trancount > 0 rollback transaction;
    throw;
end catch;

drop table {{ staging_table }};
    {%- endcall -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do apply_grants(target_relation, config.get('grants'), should_revoke=False) -%}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization -%}

{#- `create table` with the YAML columns' names and types. -#}
{%- macro procedure_table_ddl(relation, columns) -%}
create table {{ relation }} (
    {%- for name, data_type in columns %}
    [{{ name }}] {{ data_type }}{{ ',' if not loop.last }}
    {%- endfor %}
);
{%- endmacro -%}
