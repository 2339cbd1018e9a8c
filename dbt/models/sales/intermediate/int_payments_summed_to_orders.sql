with

payments as (

    select * from {{ ref('stg_shop__payments') }}

),

summed as (

    select
        order_id,
        paid_on,
        count(*) as payment_count,
        sum(amount) as amount_paid,
        max(paid_at) as last_paid_at

    from payments
    group by order_id, paid_on

)

select * from summed
