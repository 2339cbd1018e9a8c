{#
  A source test that fails when the newest row of a raw table was loaded longer ago than the
  source's own freshness threshold. It reads the same `loaded_at_field` and
  `freshness.error_after` that `dbt source freshness` reads, so the threshold lives in one place;
  as a test it runs inside `dbt build` (and so as a Dagster asset check) and blocks every model
  built on stale raw data. An empty table fails too.
#}
{% test fresh(model) %}
    {%- if not execute -%}
        select 1 as last_loaded_at {#- parsing: the graph is not built yet #}
    {%- else -%}
    {%- set source_node = graph.sources.values()
        | selectattr("schema", "equalto", model.schema)
        | selectattr("identifier", "equalto", model.identifier)
        | first -%}
    {%- set config = source_node.config if source_node.config is mapping else {} -%}
    {%- set loaded_at_field = config.get("loaded_at_field") or source_node.loaded_at_field -%}
    {%- set freshness = config.get("freshness") or source_node.freshness -%}
    {%- if not loaded_at_field or not freshness or not freshness.error_after or not freshness.error_after.count -%}
        {{ exceptions.raise_compiler_error(
            "test fresh on " ~ source_node.unique_id ~ " needs loaded_at_field and freshness.error_after") }}
    {%- endif -%}
    {%- set error_after = freshness.error_after -%}

    select max({{ loaded_at_field }}) as last_loaded_at
    from {{ model }}
    having max({{ loaded_at_field }}) is null
        or {{ dbt.datediff("max(" ~ loaded_at_field ~ ")", dbt.current_timestamp(), error_after.period) }}
            >= {{ error_after.count }}
    {%- endif %}
{% endtest %}
