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
        paid_at

    from source

)

select * from renamed
