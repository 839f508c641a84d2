{#- Materialization for a table filled by a stored procedure's result set (the model's SQL is
    `exec <procedure>`), as the tutorial's `INSERT INTO py_customer_clusters EXEC ...`:
    1. run the procedure into a temp table, outside any transaction: a failing or slow script
       neither touches nor locks the table;
    2. in one transaction, create the table if missing, with the columns and data_type of the
       model's YAML (--full-refresh drops and recreates it), delete the old rows and insert
       the new ones: readers see the old content or the new, never a half-written table. -#}
{%- materialization procedure_table, adapter='sqlserver' -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set columns = {} -%}
    {%- for name, column in model['columns'].items() -%}
        {%- if not column['data_type'] -%}
            {{ exceptions.raise_compiler_error(
                'procedure_table model ' ~ model['name'] ~ ': column ' ~ name
                ~ ' needs a data_type in its YAML'
            ) }}
        {%- endif -%}
        {%- do columns.update({name: column['data_type']}) -%}
    {%- endfor -%}
    {%- if not columns -%}
        {{ exceptions.raise_compiler_error(
            'procedure_table model ' ~ model['name'] ~ ' needs its columns with data_type in YAML'
        ) }}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for name in columns.keys() -%}
        {%- do quoted.append('[' ~ name ~ ']') -%}
    {%- endfor -%}
    {%- set column_list = quoted | join(', ') -%}
    {%- set object_name = target_relation.schema ~ '.' ~ target_relation.identifier -%}
    {%- set staging_table = '#' ~ target_relation.identifier ~ '__dbt_new' -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- call statement('main') -%}
create table {{ staging_table }} (
    {%- for name, data_type in columns.items() %}
    [{{ name }}] {{ data_type }}{{ ',' if not loop.last }}
    {%- endfor %}
);

insert into {{ staging_table }} ({{ column_list }})
{{ sql | trim | trim(';') }};

begin try
    begin transaction;
    {%- if should_full_refresh() %}
    drop table if exists {{ target_relation }};
    {%- endif %}
    if object_id(N'{{ object_name }}', N'U') is null
    begin
        create table {{ target_relation }} (
            {%- for name, data_type in columns.items() %}
            [{{ name }}] {{ data_type }}{{ ',' if not loop.last }}
            {%- endfor %}
        );
    end;
    delete from {{ target_relation }};
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
