with

daily_movements as (

    select * from {{ ref('int_stock_movements_summed_to_days') }}

),

summed as (

    select
        product_id,
        warehouse_id,
        sum(quantity_moved) as quantity_on_hand,
        sum(quantity_received) as quantity_received,
        sum(quantity_shipped) as quantity_shipped,
        max(last_moved_at) as last_moved_at

    from daily_movements
    group by product_id, warehouse_id

)

select * from summed
