{#- The value of a project var, checked. (Interface placeholder: the central table of every
    var's type and range replaces the body; callers use validated_var(name) only.) -#}
{%- macro validated_var(name) -%}
    {%- set value = var(name) -%}
    {%- set text = value | string | trim -%}
    {%- if name in ['min_segment_share', 'min_silhouette', 'max_davies_bouldin'] -%}
        {%- if not modules.re.fullmatch('-?[0-9]{1,9}(\\.[0-9]{1,15})?', text) -%}
            {{ exceptions.raise_compiler_error('var ' ~ name ~ '=' ~ text ~ ' is not allowed: use a number') }}
        {%- endif -%}
        {{ return(text | float) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro -%}
