{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='order_date',
          partition_by=daily_partition_by('order_date')) }}

with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

order_totals as (

    select * from {{ ref('int_order_items_summed_to_orders') }}

),

payment_totals as (

    select * from {{ ref('int_payments_summed_to_orders') }}

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.order_date,
        orders.status,
        orders.channel,
        coalesce(order_totals.item_count, 0) as item_count,
        coalesce(order_totals.unit_count, 0) as unit_count,
        coalesce(order_totals.order_amount, 0) as order_amount,
        coalesce(payment_totals.amount_paid, 0) as amount_paid,
        coalesce(payment_totals.amount_paid, 0) >= coalesce(order_totals.order_amount, 0)
            as is_fully_paid

    from orders
    left join order_totals on orders.order_id = order_totals.order_id
    left join payment_totals on orders.order_id = payment_totals.order_id

)

select * from final
