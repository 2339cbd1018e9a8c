{#- A custom schema is used as given (sales, sales_staging, ...), not prefixed with the
    target schema, so the warehouse layout is the same in every environment. A blue/green mart is
    built in its schema's blue twin (sales_blue), which consumers are not granted, and published
    onto the schema they read (macros/publishing/). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = target.schema if custom_schema_name is none else custom_schema_name | trim -%}
    {{ schema ~ blue_suffix() if node is not none and is_blue_green(node) else schema }}
{%- endmacro %}
