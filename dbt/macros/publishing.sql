{#- Blue/green publishing of the marts (models whose config has meta.blue_green).

    Consumers read a mart's green relation (sales.orders), in a schema (BigQuery: a dataset) that
    holds published marts only. dbt builds it as its blue relation in the domain's blue schema
    (sales_blue.orders), which consumers are not granted, and tests it there. At the end of the
    invocation, and only if every model and test of the invocation was clean, each mart it built
    is published onto its green relation. A failed run leaves green exactly as it was; the
    rejected build stays in blue for inspection until the next run.

    - generate_schema_name (macros/generate_schema_name.sql) puts marts in their blue schema.
    - ref() reads a mart's blue relation only when the invocation builds it; every other mart,
      another domain's included, is read where consumers read it: green.
    - on-run-start brings each incremental mart's blue to green's state, so it stays incremental:
      BigQuery clones green (no bytes copied); DuckDB copies back only the days blue differs on
      (those of a rejected build; none after a published one).
    - on-run-end publishes, dispatched by adapter: DuckDB copies in one transaction (an
      incremental mart: the window's days; a table: the table); BigQuery copies blue onto green
      (a metadata-only copy job).
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


{% macro ref() %}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if not execute or relation is none or not relation.schema.endswith(blue_suffix()) -%}
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
    {%- if _builds_models() -%}
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
    {%- if flags.FULL_REFRESH or existing_green is none -%}
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
    {#- What this run may change in blue: its window, or (no window, a full refresh) everything.
        (dbt's `flags` in Jinja lacks --event-time-start/-end; the invocation's arguments have them.) -#}
    {%- set window_start, window_end = invocation_args_dict.get('event_time_start'), invocation_args_dict.get('event_time_end') -%}
    {%- do statements.append('delete from ' ~ pending ~ " where relation = '" ~ key ~ "'") -%}
    {%- if window_start and window_end and not flags.FULL_REFRESH -%}
        {%- do statements.append('insert into ' ~ pending ~ " values ('" ~ key ~ "', '" ~ window_start.strftime('%Y-%m-%d %H:%M:%S')
                                 ~ "', '" ~ window_end.strftime('%Y-%m-%d %H:%M:%S') ~ "')") -%}
    {%- else -%}
        {%- do statements.append('insert into ' ~ pending ~ " values ('" ~ key ~ "', null, null)") -%}
    {%- endif -%}
    {%- do _run_in_transaction(statements | join(';\n')) -%}
    {%- do adapter.cache_added(blue) if existing_green is not none and existing_blue is none and not flags.FULL_REFRESH -%}
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
    {%- if not flags.FULL_REFRESH and load_cached_relation(green) is not none -%}
        {%- do run_query(bigquery__clone_green_into_blue(green, blue)) -%}
        {%- do adapter.cache_added(blue) -%}
    {%- endif -%}
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
        {%- endif -%}
        {%- if is_blue_green(result.node) -%}
            {%- do built.append(result.node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not built -%}
        {{ return('') }}  {#- no mart in this invocation (snapshots, tests alone): nothing to publish -#}
    {%- elif unclean -%}
        {%- do log('blue/green: nothing published, not clean: ' ~ unclean | join(', '), info=true) -%}
    {%- else -%}
        {%- set blues = [] -%}
        {%- for node in built -%}
            {%- set blue = blue_of(node) -%}
            {%- do blues.append({'blue': blue, 'green': green_of(blue), 'green_exists': load_cached_relation(green_of(blue)) is not none,
                                 'incremental': node.config.materialized == 'incremental',
                                 'window': _window_filter(node) if node.config.materialized == 'incremental' else none}) -%}
        {%- endfor -%}
        {%- do _run_in_transaction(adapter.dispatch('promote_blue_to_green')(blues)) -%}
        {%- do log('blue/green: published ' ~ blues | map(attribute='green') | map(attribute='identifier') | join(', '), info=true) -%}
    {%- endif -%}
{% endmacro %}


{#- `event_time` within the invocation's window, for an incremental mart built for one; none otherwise. -#}
{% macro _window_filter(node) %}
    {%- set start, end = invocation_args_dict.get('event_time_start'), invocation_args_dict.get('event_time_end') -%}
    {%- if not (start and end and node.config.event_time) or flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {{ return(_event_time_between(adapter.quote(node.config.event_time), start.strftime('%Y-%m-%d %H:%M:%S'),
                                  end.strftime('%Y-%m-%d %H:%M:%S'))) }}
{% endmacro %}

{#- The rows whose (quoted) event time column falls in [start, end), two 'YYYY-MM-DD HH:MM:SS'. -#}
{% macro _event_time_between(event_time, start, end) %}
    {{ return('cast(' ~ event_time ~ " as timestamp) >= timestamp '" ~ start ~ "' and cast(" ~ event_time
              ~ " as timestamp) < timestamp '" ~ end ~ "'") }}
{% endmacro %}

{#- One transaction. DuckDB cannot move a table to another schema, so green is written from blue:
    an incremental mart built for a window gets the window's days (a day's build copies a day's
    rows), anything else its whole table (a dimension is rebuilt whole anyway). Blue stays, equal to
    green, and is the next run's start: its pending days are cleared, so the build after a 30-day
    backfill copies nothing back (only a rejected build leaves days for the next one to copy). -#}
{% macro default__promote_blue_to_green(blues) %}
    {% for mart in blues -%}
    create schema if not exists {{ mart.green.include(identifier=false) }};
    {% if mart.incremental and mart.green_exists and mart.window -%}
    delete from {{ mart.green }} where {{ mart.window }};
    insert into {{ mart.green }} select * from {{ mart.blue }} where {{ mart.window }};
    {% else -%}
    create or replace table {{ mart.green }} as select * from {{ mart.blue }};
    {% endif -%}
    {% if mart.incremental -%}
    delete from {{ _pending_days_relation() }} where relation = '{{ mart.blue.schema ~ '.' ~ mart.blue.identifier }}';
    {% endif -%}
    {% endfor -%}
{% endmacro %}

{#- BigQuery has no multi-table DDL transaction: each mart is copied onto green in turn (a
    metadata-only copy); blue is cloned from green again at the next run's start. -#}
{% macro bigquery__promote_blue_to_green(blues) %}
    {% for mart in blues -%}
    create schema if not exists {{ mart.green.include(identifier=false) }};
    create or replace table {{ mart.green }} copy {{ mart.blue }};
    drop table {{ mart.blue }};
    {% endfor -%}
{% endmacro %}
