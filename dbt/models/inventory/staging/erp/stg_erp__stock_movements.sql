with

source as (

    select * from {{ source('erp', 'stock_movements') }}

),

renamed as (

    select
        movement_id,
        product_id,
        warehouse_id,
        movement_type,
        quantity,
        moved_at,
        cast(moved_at as date) as moved_on

    from source

)

select * from renamed
