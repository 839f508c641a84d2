{#- Post-hook of int_campaign_recipients_screened, inside the model's transaction: when no
    screened customer is left to mail, fail the statement, so the new screening rolls back
    and every list, the holdout, the exclusions and the history keep their previous rows. An
    empty send list is never a campaign anyone meant (wrong segments, every address opted out
    or broken), and published with exit 0 it would look like a successful run. Dispatched
    because the database raises the error: DuckDB with error() in a query, T-SQL with THROW. -#}
{%- macro assert_campaign_list_not_empty() -%}
    {%- set segments = campaign_segments() -%}
    {%- set message = 'campaign ' ~ campaign_name() ~ ': the send list would be empty (every '
        ~ 'customer of ' ~ ('segments ' ~ segments | join(', ') if segments else 'every segment')
        ~ ' is excluded or held out); nothing was published, the previous lists are kept' -%}
    {{ return(adapter.dispatch('assert_campaign_list_not_empty', 'customer_segmentation')(
        message | replace("'", "''")
    )) }}
{%- endmacro -%}

{%- macro default__assert_campaign_list_not_empty(message) -%}
    {{ exceptions.raise_compiler_error(
        'assert_campaign_list_not_empty has no implementation for adapter ' ~ target.type
    ) }}
{%- endmacro -%}

{%- macro duckdb__assert_campaign_list_not_empty(message) -%}
    select error('{{ message }}')
    from {{ this }}
    having count(
        case when is_targeted = 1 and exclusion_reason is null and is_holdout = 0 then 1 end
    ) = 0
{%- endmacro -%}

{%- macro sqlserver__assert_campaign_list_not_empty(message) -%}
    if not exists (
        select 1 from {{ this }}
        where is_targeted = 1 and exclusion_reason is null and is_holdout = 0
    )
        throw 50001, N'{{ message }}', 1;
{%- endmacro -%}
