with

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

summed as (

    select
        order_id,
        order_date,
        count(*) as item_count,
        sum(quantity) as unit_count,
        sum(line_amount) as order_amount

    from order_items
    group by order_id, order_date

)

select * from summed
