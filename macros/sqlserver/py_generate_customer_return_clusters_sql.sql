{#- The tutorial's stored procedure, generated: `sp_execute_external_script` runs the
    clustering core of the python/ package (the generated clustering_script macro plus a call
    with k, seed and n_init from the dbt vars) on the feature query built from the feature
    models' own macros. Single quotes are doubled for the N'...' literals. The result set is
    typed `Customer bigint` (keys of larger TPCx-BB scale factors pass 2^31) and `cluster int`
    (a label: campaign filters compare it exactly), where the tutorial declares `Customer int`
    and `cluster float`. -#}
{%- macro py_generate_customer_return_clusters_sql() -%}
    {%- set script = clustering_script() ~ '\n\n' ~ clustering_script_call() ~ '\n' -%}
    {%- set input_query = customer_return_features_query() -%}
create or alter procedure {{ py_generate_customer_return_clusters_relation() }}
as
begin
    set nocount on;
    exec sp_execute_external_script
        @language = N'Python',
        @script = N'{{ script | replace("'", "''") }}',
        @input_data_1 = N'{{ input_query | replace("'", "''") }}',
        @input_data_1_name = N'my_input_data'
    with result sets ((
        Customer bigint,
        OrderRatio float,
        itemsRatio float,
        monetaryRatio float,
        frequency float,
        cluster int
    ));
end
{%- endmacro -%}
