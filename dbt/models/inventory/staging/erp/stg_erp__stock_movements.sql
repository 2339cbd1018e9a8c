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
        -- the day of the export, which ingest checked is the day moved_at falls on
        _export_date as moved_on

    from source

)

select * from renamed
