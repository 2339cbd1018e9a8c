{#-
  dbt's hook for what a generic test reads, extended for partitioned runs: when `dbt build` is
  given --event-time-start/--event-time-end (a Dagster partition or range), a test on a model or
  source that declares `event_time` reads only that window. A day's run then tests the day it
  built instead of re-reading all history, so its cost stays flat as history grows. Runs without
  the flags (full refreshes, the unpartitioned models) test everything, as before. The test's own
  `where` config still applies.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [config.get('where'), event_time_window_filter(relation)] | select | list -%}
    {%- if filters -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ filters | join(" and ") ~ ") dbt_subquery") -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- `event_time >= start and event_time < end` for the tested relation, or none. The platform's
    event_time columns are dates and its windows whole UTC days, so dates compare exactly. -#}
{% macro event_time_window_filter(relation) -%}
    {%- set start, end = dbt_invocation().window_start, dbt_invocation().window_end -%}
    {#- `fresh` asks when the table was last loaded at all, not when the window was; `delivered`
        reads the window's days itself. -#}
    {%- if not (execute and start and end) or (model.get('test_metadata') or {}).get('name') in ('fresh', 'delivered') -%}
        {%- do return(none) -%}
    {%- endif -%}
    {#- The tested relation is one of the test's own parents: look only at those. -#}
    {%- for parent in model.depends_on.nodes
            if parent in graph.nodes or parent in graph.sources -%}
        {%- set node = graph.nodes.get(parent) or graph.sources.get(parent) -%}
        {%- if node.resource_type in ('model', 'source')
            and node.schema == relation.schema
            and (node.alias or node.identifier) == relation.identifier
            and node.config.get('event_time') -%}
            {%- set column = node.config.get('event_time') -%}
            {%- do return(column ~ " >= cast('" ~ (start | string)[:10] ~ "' as date) and "
                          ~ column ~ " < cast('" ~ (end | string)[:10] ~ "' as date)") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}
