{#- The row count of every table an invocation built, for the asset pages (`dagster/row_count`).

    An on-run-end hook, before publishing: it counts a mart's blue relation, the one published.
    A model built for a window (a Dagster partition or range) counts the window's rows. Views hold
    no rows of their own and are not counted. One log line, `row counts: {"<unique_id>": n, ...}`,
    read by the platform's dbt ops (dataplatform.dbt.plan); one query, a metadata read on BigQuery. -#}
{% macro log_row_counts(results) %}
    {%- set invocation = dbt_invocation() -%}
    {%- if not (execute and invocation.command in ('build', 'run', 'retry', 'snapshot')) -%}{{ return('') }}{%- endif -%}
    {%- set start, end = invocation.window_start, invocation.window_end -%}
    {%- set counts = [] -%}
    {%- for result in results
            if result.status in ('success', 'partial success') and result.node.resource_type in ('model', 'snapshot')
            and result.node.config.materialized in ('table', 'incremental', 'snapshot') -%}
        {%- set node = result.node -%}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- set event_time = node.config.get('event_time') -%}
        {%- set window = " where cast(" ~ event_time ~ " as date) >= cast('" ~ (start | string)[:10] ~ "' as date) and cast("
                         ~ event_time ~ " as date) < cast('" ~ (end | string)[:10] ~ "' as date)"
                         if event_time and start and end else "" -%}
        {%- do counts.append("select '" ~ node.unique_id ~ "' as unique_id, count(*) as row_count from " ~ relation ~ window) -%}
    {%- endfor -%}
    {%- if counts -%}
        {%- set rows = run_query(counts | join(' union all ')).rows -%}
        {%- set by_node = {} -%}
        {%- for unique_id, row_count in rows -%}{%- do by_node.update({unique_id: row_count | int}) -%}{%- endfor -%}
        {%- do log('row counts: ' ~ tojson(by_node), info=true) -%}
    {%- endif -%}
{% endmacro %}
