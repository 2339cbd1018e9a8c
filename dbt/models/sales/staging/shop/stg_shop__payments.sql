with

source as (

    select * from {{ source('shop', 'payments') }}

),

renamed as (

    select
        payment_id,
        order_id,
        method as payment_method,
        amount,
        paid_at,
        -- the day of the export, which ingest checked is the day paid_at falls on
        _export_date as paid_on

    from source

)

select * from renamed
