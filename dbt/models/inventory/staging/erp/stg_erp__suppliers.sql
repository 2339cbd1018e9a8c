with

source as (

    select * from {{ source('erp', 'suppliers') }}

),

renamed as (

    select
        supplier_id,
        supplier_name,
        country as supplier_country,
        lead_time_days

    from source

)

select * from renamed
