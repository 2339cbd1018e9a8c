{#- Blue/green publishing of the marts (models whose config has meta.blue_green).

    Consumers read a mart's green relation (sales.orders), in a schema (BigQuery: a dataset) that
    holds published marts only. dbt builds it as its blue relation in the domain's blue schema
    (sales_blue.orders), which consumers are not granted, and tests it there. At the end of the
    invocation, and only if every model and test of the invocation was clean, each mart it built
    is published onto its green relation. A failed run leaves green exactly as it was; the
    rejected build stays in blue for inspection until the next run.

    The macros, in this folder:
    - naming.sql: which models publish (is_blue_green: meta.blue_green, declared for the marts
      folders in dbt_project.yml), their blue and green relations, and ref() choosing between them;
      generate_schema_name (macros/generate_schema_name.sql) puts marts in their blue schema.
    They read the invocation (what it runs, its window, --full-refresh) through dbt_invocation()
    (macros/dbt_invocation.sql), the project's one reader of those dbt internals.
    - start.sql: on-run-start, each incremental mart's blue brought to green's state.
    - publish.sql: on-run-end, the clean invocation's marts published onto green.
    The platform's Python side of it is dataplatform.publishing.
    ref() reads a mart's blue relation only when the invocation builds it; every other mart,
    another domain's included, is read where consumers read it: green.
    On-run-start brings each incremental mart's blue to green's state, so it stays incremental:
    BigQuery clones green (no bytes copied); DuckDB copies back only the days blue differs on
    (those of a rejected build; none after a published one). On-run-end publishes, dispatched by
    adapter: DuckDB copies in one transaction (an incremental mart: the window's days; a table:
    the table); BigQuery copies blue onto green (a metadata-only copy job).
    Run with --vars '{blue_green: false}' to build marts in place (the benchmarks' baseline). -#}

{% macro blue_suffix() %}{{ return('_blue') }}{% endmacro %}


{% macro is_blue_green(node) %}
    {{ return(var('blue_green', true) and node.resource_type == 'model'
              and (node.config.meta or {}).get('blue_green', false)) }}
{% endmacro %}


{% macro blue_of(node) %}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias, type='table')) }}
{% endmacro %}


{% macro green_of(relation) %}
    {{ return(relation.incorporate(path={'schema': relation.schema[:-(blue_suffix() | length)]})) }}
{% endmacro %}


{#- A unit test's inputs are CTEs (no schema): they are read as given. -#}
{% macro ref() %}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if not execute or relation is none or not relation.schema or not relation.schema.endswith(blue_suffix()) -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- for unique_id in selected_resources -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if node and node.schema == relation.schema and node.alias == relation.identifier -%}
            {{ return(relation) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(green_of(relation)) }}
{% endmacro %}
