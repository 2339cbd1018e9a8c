{#- On-run-start of blue/green publishing (naming.sql says the whole of it). -#}

{% macro start_blue_from_green() %}
    {%- if dbt_invocation().builds_models -%}
        {%- for unique_id in selected_resources -%}
            {%- set node = graph.nodes.get(unique_id) -%}
            {%- if node and is_blue_green(node) and node.config.materialized == 'incremental' -%}
                {%- set blue = blue_of(node) -%}
                {%- do adapter.dispatch('start_incremental_blue')(node, blue, green_of(blue)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{#- DuckDB cannot clone a table without copying it, so an incremental mart keeps two tables:
    green, and blue, which differs from green only on the days a run built since (a rejected
    build). Those days are recorded in blue_green.pending_days before the build, and copied back
    from green before the next one: a day's build copies a day's rows, whatever the history. -#}
{% macro default__start_incremental_blue(node, blue, green) %}
    {%- set existing_green = load_cached_relation(green) -%}
    {%- set existing_blue = load_cached_relation(blue) -%}
    {%- set pending = _pending_days_relation() -%}
    {%- do run_query('create schema if not exists ' ~ pending.include(identifier=false) ~ '; create table if not exists ' ~ pending
                     ~ ' (relation varchar, day_start varchar, day_end varchar)') -%}
    {#- Keyed without the database: a DuckDB file copied or renamed changes its catalog's name. -#}
    {%- set key = blue.schema ~ '.' ~ blue.identifier -%}
    {%- set rows = run_query('select day_start, day_end from ' ~ pending ~ " where relation = '" ~ key ~ "'").rows -%}
    {%- set event_time = adapter.quote(node.config.event_time) -%}
    {%- set statements = [] -%}
    {%- set invocation = dbt_invocation() -%}
    {%- if invocation.full_refresh or existing_green is none -%}
        {%- if existing_blue is not none and existing_green is none -%}{%- do statements.append('drop table ' ~ blue) -%}{%- endif -%}
    {#- No record (a blue not made by these hooks) or "everything": blue is copied whole. -#}
    {%- elif existing_blue is none or not rows or rows | selectattr(0, 'none') | list -%}
        {%- do statements.append('create or replace table ' ~ blue ~ ' as select * from ' ~ green) -%}
        {%- do log('blue/green: ' ~ blue ~ ' copied from ' ~ green, info=true) -%}
    {%- else -%}
        {%- for day_start, day_end in rows -%}
            {%- set days = _event_time_between(event_time, day_start, day_end) -%}
            {%- do statements.append('delete from ' ~ blue ~ ' where ' ~ days) -%}
            {%- do statements.append('insert into ' ~ blue ~ ' select * from ' ~ green ~ ' where ' ~ days) -%}
        {%- endfor -%}
        {%- if rows -%}{%- do log('blue/green: ' ~ blue ~ ' caught up with ' ~ green ~ ' on ' ~ rows | length ~ ' range(s) of days', info=true) -%}{%- endif -%}
    {%- endif -%}
    {#- What this run may change in blue: its window, or (no window, a full refresh) everything. -#}
    {%- do statements.append('delete from ' ~ pending ~ " where relation = '" ~ key ~ "'") -%}
    {%- if invocation.window_start and invocation.window_end and not invocation.full_refresh -%}
        {%- do statements.append('insert into ' ~ pending ~ " values ('" ~ key ~ "', '" ~ invocation.window_start
                                 ~ "', '" ~ invocation.window_end ~ "')") -%}
    {%- else -%}
        {%- do statements.append('insert into ' ~ pending ~ " values ('" ~ key ~ "', null, null)") -%}
    {%- endif -%}
    {%- do _run_in_transaction(statements | join(';\n')) -%}
    {%- do adapter.cache_added(blue) if existing_green is not none and existing_blue is none and not invocation.full_refresh -%}
    {%- do adapter.cache_dropped(blue) if existing_green is none and existing_blue is not none -%}
{% endmacro %}

{#- Statements in one transaction: dbt's own on the hook's connection (it may have one open
    already, so no `begin` of ours), committed together. BigQuery's commit is a no-op. -#}
{% macro _run_in_transaction(sql) %}
    {%- call statement('blue_green', auto_begin=true) -%}{{ sql }}{%- endcall -%}
    {%- do adapter.commit() -%}
{% endmacro %}

{% macro _pending_days_relation() %}
    {{ return(api.Relation.create(database=target.database, schema='blue_green', identifier='pending_days', type='table')) }}
{% endmacro %}

{#- BigQuery clones a table without copying its bytes: blue starts as a clone of green. -#}
{% macro bigquery__start_incremental_blue(node, blue, green) %}
    {%- if not dbt_invocation().full_refresh and load_cached_relation(green) is not none -%}
        {%- do run_query(bigquery__clone_green_into_blue(green, blue)) -%}
        {%- do adapter.cache_added(blue) -%}
    {%- endif -%}
{% endmacro %}

{% macro bigquery__clone_green_into_blue(green, blue) %}
    create or replace table {{ blue }} clone {{ green }}
{% endmacro %}
