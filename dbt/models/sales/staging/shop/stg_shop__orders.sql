with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select
        order_id,
        customer_id,
        ordered_at,
        -- the day of the export, which ingest checked is the day ordered_at falls on: the
        -- partition column, so a day's batch reads one partition of the raw table
        _export_date as order_date,
        status,
        channel

    from source

)

select * from renamed
