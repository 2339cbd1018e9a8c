with

source as (

    select * from {{ source('shop', 'customers') }}

),

renamed as (

    select
        customer_id,
        full_name as customer_name,
        lower(email) as email,
        tier,
        city,
        country,
        signup_date,
        updated_at

    from source

)

select * from renamed
