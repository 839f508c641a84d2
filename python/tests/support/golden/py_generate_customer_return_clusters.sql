create or alter procedure "dbo"."py_generate_customer_return_clusters"
    @model_run_id bigint = null
as
begin
    set nocount on;
    if isnull(cast(serverproperty('IsAdvancedAnalyticsInstalled') as int), 0) <> 1
        throw 50001, N'Machine Learning Services is not installed on this instance (SERVERPROPERTY(''IsAdvancedAnalyticsInstalled'') = 0): install it with Python, then run sqlserver/setup.sql', 1;
    if isnull((select cast(value_in_use as int) from sys.configurations where name = N'external scripts enabled'), 0) <> 1
        throw 50002, N'external scripts are disabled: the server configuration option ''external scripts enabled'' is 0. Run EXEC sp_configure ''external scripts enabled'', 1; RECONFIGURE WITH OVERRIDE; (sqlserver/setup.sql) and restart the SQL Server Launchpad service', 1;
    declare @run_id bigint = coalesce(
        @model_run_id, (select max(run_id) from "tpcxbb_1gb"."dbo"."segment_model_registry" where coalesce(cast(passed_gates as integer), 1) = 1)
    );
    if @run_id is null
        throw 50004, N'no segment model: segment_model_registry has no run that passed its quality gates yet; train one with dbt build --target sqlserver', 1;
    if not exists (select 1 from "tpcxbb_1gb"."dbo"."segment_model_registry" where run_id = @run_id)
    begin
        declare @known_runs nvarchar(max) = (
            select string_agg(cast(runs.run_id as nvarchar(20)), N', ')
                within group (order by runs.run_id)
            from (select distinct run_id from "tpcxbb_1gb"."dbo"."segment_model_registry") as runs
        );
        declare @unknown_run nvarchar(2048) = concat(
            N'model_run_id=', @run_id, N' is not in the model registry (runs: ',
            isnull(@known_runs, N'none'), N'); nothing was changed'
        );
        throw 50003, @unknown_run, 1;
    end;
    if exists (
        select 1 from "tpcxbb_1gb"."dbo"."segment_model_registry"
        where run_id = @run_id and coalesce(cast(passed_gates as integer), 1) = 0
    )
    begin
        declare @rejected_run nvarchar(2048) = concat(
            N'model_run_id=', @run_id,
            N' was rejected by its quality gates and is never served (',
            (select max(gate_failures) from "tpcxbb_1gb"."dbo"."segment_model_registry" where run_id = @run_id),
            N'); pin a run that passed'
        );
        throw 50005, @rejected_run, 1;
    end;
    declare @model_json nvarchar(max) = (
        select
                run_id,
                convert(varchar(33), trained_at, 126) as trained_at,
                invocation_id,
                previous_run_id,
                train_reason,
                n_clusters,
                random_state,
                n_init,
                scaled,
                features,
                training_rows,
                convert(varchar(30), inertia, 3) as inertia,
                convert(varchar(30), silhouette, 3) as silhouette,
                silhouette_sample_size,
                convert(varchar(30), davies_bouldin, 3) as davies_bouldin,
                convert(varchar(30), outlier_quantile, 3) as outlier_quantile,
                segment_id,
                fitted_label,
                segment_size,
                convert(varchar(30), segment_share, 3) as segment_share,
                convert(varchar(30), centroid_shift, 3) as centroid_shift,
                convert(varchar(30), outlier_distance, 3) as outlier_distance,
                feature,
                feature_position,
                convert(varchar(30), centroid_value, 3) as centroid_value,
                convert(varchar(30), scaled_value, 3) as scaled_value,
                convert(varchar(30), scaler_mean, 3) as scaler_mean,
                convert(varchar(30), scaler_scale, 3) as scaler_scale,
                python_version,
                pandas_version,
                numpy_version,
                sklearn_version,
                passed_gates,
                gate_failures
            from "tpcxbb_1gb"."dbo"."segment_model_registry"
            where run_id = @run_id
            for json path, include_null_values
    );
    exec sp_execute_external_script
        @language = N'Python',
        @script = N'<segment_model_script() + the procedure's call>',
        @input_data_1 = N'with

store_sales as (
    select * from "tpcxbb_1gb"."dbo"."stg_tpcxbb__store_sales"
),

store_returns as (
    select * from "tpcxbb_1gb"."dbo"."stg_tpcxbb__store_returns"
),

customer_orders as (
    select
        customer_sk,
        count(distinct ticket_number) as orders_count,
        count(item_sk) as orders_items,
        sum(net_paid) as orders_money,
        -- The incremental model''s watermark: new sales come on higher ticket numbers.
        max(ticket_number) as last_ticket_number
    from store_sales
    where customer_sk is not null
    group by customer_sk
),

customer_returns as (
    select
        customer_sk,
        count(distinct ticket_number) as returns_count,
        count(item_sk) as returns_items,
        sum(return_amount) as returns_money
    from store_returns
    where customer_sk is not null
    group by customer_sk
),

features as (
    select
        customer_orders.customer_sk as customer,
        round(
        coalesce(
            cast(customer_returns.returns_count as float)
            / nullif(cast(customer_orders.orders_count as float), 0),
            0
        ),
        7
    )
            as orderRatio,
        round(
        coalesce(
            cast(customer_returns.returns_items as float)
            / nullif(cast(customer_orders.orders_items as float), 0),
            0
        ),
        7
    )
            as itemsRatio,
        round(
        coalesce(
            cast(customer_returns.returns_money as float)
            / nullif(cast(customer_orders.orders_money as float), 0),
            0
        ),
        7
    )
            as monetaryRatio,
        coalesce(customer_returns.returns_count, 0) as frequency
    from customer_orders
    left join customer_returns
        on customer_orders.customer_sk = customer_returns.customer_sk
)

select * from features',
        @input_data_1_name = N'my_input_data',
        @params = N'@model_json nvarchar(max)',
        @model_json = @model_json
    with result sets ((
        [Customer] bigint,
        [OrderRatio] float,
        [itemsRatio] float,
        [monetaryRatio] float,
        [frequency] float,
        [cluster] int
    ));
end
