{#
  A source test on an event table: every day the build reads has a load recorded by shared_ingest
  (`ingest_log.loaded_partitions`, one row per table and day, with the day's row count). A day
  whose export legitimately held no rows passes; a day never delivered fails the test, so the
  build skips the models built on the source and publishes nothing (macros/publishing/).

  The days are the invocation's window (--event-time-start/--event-time-end: a Dagster partition
  or range); without a window (a full refresh, the critical tests), every day from the partitions'
  first day to the newest day in the raw table. The error names the missing days and the ingest
  asset and partitions to materialize. Read from the warehouse, so it holds on DuckDB and BigQuery.
#}
{% test delivered(model) %}
    {%- if not execute -%}
        select cast(null as date) as missing_day {#- parsing: the graph is not built yet #}
    {%- else -%}
    {%- set source_node = graph.sources.values()
        | selectattr("schema", "equalto", model.schema)
        | selectattr("identifier", "equalto", model.identifier)
        | first -%}
    {%- set source_table = source_node.source_name ~ '.' ~ source_node.name -%}
    {%- set event_time = source_node.config.get('event_time') -%}
    {%- if not event_time -%}
        {{ exceptions.raise_compiler_error("test delivered on " ~ source_node.unique_id ~ " needs config.event_time") }}
    {%- endif -%}
    {#- Only a run of the test asks the warehouse; `dbt compile` renders the SQL offline. -#}
    {%- set checking = dbt_invocation().command in ('build', 'test', 'retry') -%}
    {%- set days = _delivered_days(model, event_time, checking) -%}
    {%- set record = api.Relation.create(database=target.database, schema='ingest_log', identifier='loaded_partitions') -%}
    {%- set ingest_asset = 'raw/' ~ source_node.source_name ~ '/' ~ source_node.name -%}
    {%- if checking and days and load_relation(record) is none -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_table ~ ": no load of any day is recorded in this warehouse (" ~ record ~ " does not exist). "
            ~ "Materialize the asset " ~ ingest_asset ~ " of code location shared_ingest for "
            ~ days[0] ~ (" .. " ~ days[-1] if days | length > 1 else "") ~ " first.") }}
    {%- endif -%}
    {%- set missing_days_sql -%}
        {%- if days -%}
        select day as missing_day
        from (
            {%- for day in days %}
            select cast('{{ day }}' as date) as day{% if not loop.last %} union all{% endif %}
            {%- endfor %}
        ) as window_days
        where day not in (select partition_day from {{ record }} where source_table = '{{ source_table }}')
        {%- else -%}
        select cast(null as date) as missing_day from {{ model }} where 1 = 0
        {%- endif -%}
    {%- endset -%}
    {%- set missing = run_query('select cast(missing_day as ' ~ dbt.type_string() ~ ') from (' ~ missing_days_sql
                                ~ ') as missing order by 1').columns[0].values() | list if checking and days else [] -%}
    {%- if missing -%}
        {%- set shown = missing[:10] | join(', ') ~ (' and ' ~ (missing | length - 10) ~ ' more' if missing | length > 10 else '') -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_table ~ ": no delivery recorded for " ~ missing | length ~ " day(s) of the build's window "
            ~ days[0] ~ " .. " ~ days[-1] ~ ": " ~ shown ~ ". Nothing is built or published on a day that never arrived. "
            ~ "Materialize the asset " ~ ingest_asset ~ " of code location shared_ingest for partition(s) "
            ~ missing[0] ~ (" .. " ~ missing[-1] if missing | length > 1 else "") ~ " (once the export has landed), "
            ~ "then run this build again.") }}
    {%- endif -%}
    {{ missing_days_sql }}
    {%- endif %}
{% endtest %}

{#- The days a build reads from an event source, as YYYY-MM-DD strings (see the test above). -#}
{% macro _delivered_days(model, event_time, checking) %}
    {%- set start, end = dbt_invocation().window_start, dbt_invocation().window_end -%}
    {%- set date = modules.datetime.date -%}
    {%- if start and end -%}
        {%- set first, stop = date.fromisoformat((start | string)[:10]), date.fromisoformat((end | string)[:10]) -%}
    {%- elif not checking -%}
        {{ return([]) }}
    {%- else -%}
        {%- set newest = run_query('select cast(max(' ~ event_time ~ ') as ' ~ dbt.type_string() ~ ') from ' ~ model).columns[0].values()[0] -%}
        {%- if newest is none -%}{{ return([]) }}{%- endif -%}
        {%- set first = date.fromisoformat(env_var('PLATFORM_PARTITIONS_START', '2026-01-01')) -%}
        {%- set stop = date.fromisoformat(newest[:10]) + modules.datetime.timedelta(days=1) -%}
    {%- endif -%}
    {%- set days = [] -%}
    {%- for offset in range((stop - first).days) -%}
        {%- do days.append((first + modules.datetime.timedelta(days=offset)).isoformat()) -%}
    {%- endfor -%}
    {{ return(days) }}
{% endmacro %}
