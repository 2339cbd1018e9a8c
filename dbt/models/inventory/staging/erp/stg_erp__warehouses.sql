with

source as (

    select * from {{ source('erp', 'warehouses') }}

),

renamed as (

    select
        warehouse_id,
        warehouse_name,
        city as warehouse_city,
        country as warehouse_country

    from source

)

select * from renamed
