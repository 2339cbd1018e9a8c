{#- dbt run by hand on the dev warehouse (DuckDB) before ingest ever ran: each source table the
    platform loads (config.meta.ingest) that does not exist yet is created empty, with its declared
    columns and the two ingest stamps on every row (the source's loaded_at_field, and an events
    table's event_time), so that a model selected alone builds, empty. What ingest later loads
    fits it exactly. Under the platform (dagster-dbt sets DAGSTER_DBT_CLI) and on BigQuery nothing
    is created: a build that runs before ingest fails, naming the ingest asset to materialize. -#}
{% macro create_missing_sources() %}
    {%- if not (execute and target.type == 'duckdb' and env_var('DAGSTER_DBT_CLI', '') != 'true'
                and dbt_invocation().builds_models) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for source in graph.sources.values() if (source.config.meta or source.meta or {}).get('ingest') -%}
        {%- set relation = api.Relation.create(database=source.database, schema=source.schema, identifier=source.identifier) -%}
        {%- if source.columns and load_relation(relation) is none -%}
            {%- set columns = [] -%}
            {%- for column in source.columns.values() -%}
                {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ column.data_type) -%}
            {%- endfor -%}
            {%- do columns.append((source.config.loaded_at_field or source.loaded_at_field) ~ ' timestamptz') -%}
            {%- if source.config.event_time -%}{%- do columns.append(source.config.event_time ~ ' date') -%}{%- endif -%}
            {%- do statements.append('create schema if not exists ' ~ relation.without_identifier()) -%}
            {%- do statements.append('create table if not exists ' ~ relation ~ ' (' ~ columns | join(', ') ~ ')') -%}
            {%- do log('dev: creating ' ~ relation ~ ' empty, as declared: ingest has not loaded it yet', info=true) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if statements -%}{%- do _run_in_transaction(statements | join(';\n')) -%}{%- endif -%}
{% endmacro %}
