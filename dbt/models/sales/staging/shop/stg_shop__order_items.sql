with

source as (

    select * from {{ source('shop', 'order_items') }}

),

renamed as (

    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        quantity * unit_price as line_amount,
        -- an order's lines are exported with the order, on the day it was placed
        _export_date as order_date

    from source

)

select * from renamed
