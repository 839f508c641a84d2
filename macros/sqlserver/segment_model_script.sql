{#- The core's modules as the body of the SQL Server procedures' @script. The script is
    generated from python/customer_segmentation/core/ into the gitignored
    macros/sqlserver/generated/segment_model_core.sql (`make venv`, `make sqlserver-script`);
    this wrapper turns a missing file into a message saying how to write it. -#}
{%- macro segment_model_script() -%}
    {%- if generated_segment_model_script is not defined -%}
        {{ exceptions.raise_compiler_error(generated_macros_missing()) }}
    {%- endif -%}
    {{ return(generated_segment_model_script()) }}
{%- endmacro -%}

{#- The message when the generated macro file is absent (a fresh clone before `make venv`). -#}
{%- macro generated_macros_missing() -%}
    {{ return(
        'macros/sqlserver/generated/segment_model_core.sql is missing: it is generated from '
        ~ 'the Python core, run `make venv` (or `make sqlserver-script`) first'
    ) }}
{%- endmacro -%}
