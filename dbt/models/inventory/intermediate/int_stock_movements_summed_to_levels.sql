with

movements as (

    select * from {{ ref('stg_erp__stock_movements') }}

),

summed as (

    select
        product_id,
        warehouse_id,
        sum(quantity) as quantity_on_hand,
        sum(case when movement_type = 'receipt' then quantity else 0 end) as quantity_received,
        -sum(case when movement_type = 'shipment' then quantity else 0 end) as quantity_shipped,
        max(moved_at) as last_moved_at

    from movements
    group by product_id, warehouse_id

)

select * from summed
