{#- The warehouse partitioning of an incremental event model: by day on its event_time column.
    BigQuery's microbatch replaces one day's partition per batch and needs it; DuckDB has no
    table partitions (its microbatch deletes and inserts the batch's rows in one transaction). -#}
{% macro daily_partition_by(column) -%}
    {%- if target.type == 'bigquery' -%}
        {{ return({'field': column, 'data_type': 'date', 'granularity': 'day'}) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
