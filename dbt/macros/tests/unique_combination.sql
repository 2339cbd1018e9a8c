{#- Fails for every combination of `columns` that appears more than once: the primary key test
    of a model whose grain is several columns (dbt's own `unique` takes one). -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
