{#- Blue/green publishing of the marts (models whose config has meta.blue_green).

    Consumers read a mart's green relation (sales.orders). dbt builds it as its blue relation
    beside it (sales.orders__blue) and tests it there. At the end of the invocation, and only if
    every model and test of the invocation was clean, each mart it built is promoted: its blue
    relation replaces its green one. A failed run leaves green exactly as it was; the rejected
    build stays in blue for inspection until the next run replaces it.

    - generate_alias_name gives marts their blue name.
    - ref() reads a mart's blue relation only when the invocation builds it; every other mart,
      another domain's included, is read where consumers read it: green.
    - on-run-start starts each incremental mart's blue from green, so it stays incremental.
    - on-run-end promotes, dispatched by adapter: DuckDB drops and renames in one transaction
      (no copy); BigQuery copies blue onto green (a metadata-only copy job).
    Run with --vars '{blue_green: false}' to build marts in place (the benchmarks' baseline). -#}

{% macro blue_suffix() %}{{ return('__blue') }}{% endmacro %}


{% macro is_blue_green(node) %}
    {{ return(var('blue_green', true) and node.resource_type == 'model'
              and (node.config.meta or {}).get('blue_green', false)) }}
{% endmacro %}


{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- set alias = dbt.default__generate_alias_name(custom_alias_name, node) | trim -%}
    {{ return(alias ~ blue_suffix() if node is not none and is_blue_green(node) else alias) }}
{%- endmacro %}


{% macro green_of(relation) %}
    {{ return(relation.incorporate(path={'identifier': relation.identifier[:-(blue_suffix() | length)]})) }}
{% endmacro %}


{% macro ref() %}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if not execute or relation is none or not relation.identifier.endswith(blue_suffix()) -%}
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


{% macro _builds_models() %}
    {{ return(execute and flags.WHICH in ('build', 'run', 'retry')) }}
{% endmacro %}


{% macro start_blue_from_green() %}
    {%- if _builds_models() and not flags.FULL_REFRESH -%}
        {%- for unique_id in selected_resources -%}
            {%- set node = graph.nodes.get(unique_id) -%}
            {%- if node and is_blue_green(node) and node.config.materialized == 'incremental' -%}
                {%- set blue = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias, type='table') -%}
                {%- set green = adapter.get_relation(database=node.database, schema=node.schema, identifier=green_of(blue).identifier) -%}
                {%- set stale_blue = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
                {%- if stale_blue is not none -%}{%- do adapter.drop_relation(stale_blue) -%}{%- endif -%}
                {%- if green is not none -%}
                    {%- do run_query(adapter.dispatch('clone_green_into_blue')(green, blue)) -%}
                    {%- do adapter.cache_added(blue) -%}
                    {%- do log('blue/green: ' ~ blue ~ ' starts from ' ~ green, info=true) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{% macro default__clone_green_into_blue(green, blue) %}
    create table {{ blue }} as select * from {{ green }}
{% endmacro %}

{% macro bigquery__clone_green_into_blue(green, blue) %}
    create or replace table {{ blue }} clone {{ green }}
{% endmacro %}


{% macro publish_blue_to_green(results) %}
    {%- if not _builds_models() -%}{{ return('') }}{%- endif -%}
    {%- set unclean = [] -%}
    {%- set built = [] -%}
    {%- for result in results -%}
        {%- if result.status not in ('success', 'pass', 'warn') -%}
            {%- do unclean.append(result.node.unique_id ~ ' (' ~ result.status ~ ')') -%}
        {%- elif is_blue_green(result.node) -%}
            {%- do built.append(api.Relation.create(database=result.node.database, schema=result.node.schema,
                                                    identifier=result.node.alias, type='table')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if unclean -%}
        {%- do log('blue/green: nothing published, not clean: ' ~ unclean | join(', '), info=true) -%}
    {%- elif built -%}
        {%- do run_query(adapter.dispatch('promote_blue_to_green')(built)) -%}
        {%- do log('blue/green: published ' ~ built | map(attribute='identifier') | map('replace', blue_suffix(), '') | join(', '), info=true) -%}
    {%- endif -%}
{% endmacro %}


{% macro default__promote_blue_to_green(blues) %}
    begin transaction;
    {% for blue in blues -%}
    drop table if exists {{ green_of(blue) }};
    alter table {{ blue }} rename to {{ adapter.quote(green_of(blue).identifier) }};
    {% endfor -%}
    commit;
{% endmacro %}

{% macro bigquery__promote_blue_to_green(blues) %}
    {% for blue in blues -%}
    create or replace table {{ green_of(blue) }} copy {{ blue }};
    drop table {{ blue }};
    {% endfor -%}
{% endmacro %}
