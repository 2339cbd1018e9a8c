with

source as (

    select * from {{ source('erp', 'products') }}

),

renamed as (

    select
        product_id,
        sku,
        product_name,
        category,
        supplier_id,
        unit_cost,
        list_price,
        updated_at

    from source

)

select * from renamed
