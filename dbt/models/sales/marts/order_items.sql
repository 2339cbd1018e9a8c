{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='order_date',
          partition_by=daily_partition_by('order_date')) }}

with

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

final as (

    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.product_id,
        orders.customer_id,
        orders.order_date,
        orders.status as order_status,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_amount

    from order_items
    inner join orders on order_items.order_id = orders.order_id

)

select * from final
