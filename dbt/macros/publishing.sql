{#- Blue/green publishing of the marts (models whose config has meta.blue_green).

    Consumers read a mart's green relation (sales.orders). dbt builds it as its blue relation
    beside it (sales.orders__blue) and tests it there. At the end of the invocation, and only if
    every model and test of the invocation was clean, each mart it built is promoted in place of
    its green relation. A failed run leaves green exactly as it was; the rejected build stays in
    blue for inspection until the next run.

    - generate_alias_name gives marts their blue name.
    - ref() reads a mart's blue relation only when the invocation builds it; every other mart,
      another domain's included, is read where consumers read it: green.
    - on-run-start brings each incremental mart's blue to green's state, so it stays incremental:
      BigQuery clones green (no bytes copied); DuckDB copies back only the days blue differs on.
    - on-run-end promotes, dispatched by adapter: DuckDB renames in one transaction (no bytes
      copied); BigQuery copies blue onto green (a metadata-only copy job).
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


{% macro blue_of(node) %}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias, type='table')) }}
{% endmacro %}


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


{#- DuckDB cannot clone a table without copying it, so an incremental mart keeps two tables that
    trade places at each promotion: green, and blue, which differs from green only on the days a
    run built since (rejected, or published by then and now behind). Those days are recorded in
    blue_green.pending_days before the build, and copied back from green before the next one: a
    day's build copies a day's rows, whatever the history. -#}
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
    {%- set statements = ['begin transaction'] -%}
    {%- if flags.FULL_REFRESH or existing_green is none -%}
        {%- if existing_blue is not none and existing_green is none -%}{%- do statements.append('drop table ' ~ blue) -%}{%- endif -%}
    {#- No record (a blue not made by these hooks) or "everything": blue is copied whole. -#}
    {%- elif existing_blue is none or not rows or rows | selectattr(0, 'none') | list -%}
        {%- do statements.append('create or replace table ' ~ blue ~ ' as select * from ' ~ green) -%}
        {%- do log('blue/green: ' ~ blue ~ ' copied from ' ~ green, info=true) -%}
    {%- else -%}
        {%- for day_start, day_end in rows -%}
            {%- set days = 'cast(' ~ event_time ~ " as timestamp) >= timestamp '" ~ day_start ~ "' and cast(" ~ event_time
                           ~ " as timestamp) < timestamp '" ~ day_end ~ "'" -%}
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
    {%- do statements.append('commit') -%}
    {%- do run_query(statements | join(';\n')) -%}
    {%- do adapter.cache_added(blue) if existing_green is not none and existing_blue is none and not flags.FULL_REFRESH -%}
    {%- do adapter.cache_dropped(blue) if existing_green is none and existing_blue is not none -%}
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
                                 'incremental': node.config.materialized == 'incremental'}) -%}
        {%- endfor -%}
        {%- do run_query(adapter.dispatch('promote_blue_to_green')(blues)) -%}
        {%- do log('blue/green: published ' ~ blues | map(attribute='green') | map(attribute='identifier') | join(', '), info=true) -%}
    {%- endif -%}
{% endmacro %}


{#- One transaction. A table mart's blue replaces green; an incremental mart's blue and green
    trade places, so the old green is the next run's blue, behind by the days this run built. -#}
{% macro default__promote_blue_to_green(blues) %}
    begin transaction;
    {% for mart in blues -%}
    {%- set swap = mart.green.incorporate(path={'identifier': mart.green.identifier ~ '__swap'}) -%}
    {% if mart.incremental and mart.green_exists -%}
    alter table {{ mart.green }} rename to {{ adapter.quote(swap.identifier) }};
    alter table {{ mart.blue }} rename to {{ adapter.quote(mart.green.identifier) }};
    alter table {{ swap }} rename to {{ adapter.quote(mart.blue.identifier) }};
    {% else -%}
    drop table if exists {{ mart.green }};
    alter table {{ mart.blue }} rename to {{ adapter.quote(mart.green.identifier) }};
    {% endif -%}
    {% endfor -%}
    commit;
{% endmacro %}

{#- BigQuery has no multi-table DDL transaction: each mart is copied onto green in turn (a
    metadata-only copy); blue is cloned from green again at the next run's start. -#}
{% macro bigquery__promote_blue_to_green(blues) %}
    {% for mart in blues -%}
    create or replace table {{ mart.green }} copy {{ mart.blue }};
    drop table {{ mart.blue }};
    {% endfor -%}
{% endmacro %}
