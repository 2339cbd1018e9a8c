{#- The day's movements per product and warehouse: built one day at a time, so stock on hand
    (a sum over all history) is re-summed from one small row per product, warehouse and day
    instead of from every movement ever made. -#}
{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='moved_on',
          partition_by=daily_partition_by('moved_on')) }}

with

movements as (

    select * from {{ ref('stg_erp__stock_movements') }}

),

summed as (

    select
        product_id,
        warehouse_id,
        moved_on,
        sum(quantity) as quantity_moved,
        sum(case when movement_type = 'receipt' then quantity else 0 end) as quantity_received,
        -sum(case when movement_type = 'shipment' then quantity else 0 end) as quantity_shipped,
        max(moved_at) as last_moved_at

    from movements
    group by product_id, warehouse_id, moved_on

)

select * from summed
