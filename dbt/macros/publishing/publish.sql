{#- On-run-end of blue/green publishing (naming.sql says the whole of it). -#}

{% macro publish_blue_to_green(results) %}
    {%- if not dbt_invocation().builds_models -%}{{ return('') }}{%- endif -%}
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
    {%- set invocation = dbt_invocation() -%}
    {%- if not (invocation.window_start and invocation.window_end and node.config.event_time) or invocation.full_refresh -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(_event_time_between(adapter.quote(node.config.event_time), invocation.window_start, invocation.window_end)) }}
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
