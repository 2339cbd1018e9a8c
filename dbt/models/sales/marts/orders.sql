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
        cast(coalesce(order_totals.item_count, 0) as bigint) as item_count,
        cast(coalesce(order_totals.unit_count, 0) as bigint) as unit_count,
        cast(coalesce(order_totals.order_amount, 0) as decimal(18, 2)) as order_amount,
        cast(coalesce(payment_totals.amount_paid, 0) as decimal(18, 2)) as amount_paid,
        coalesce(payment_totals.amount_paid, 0) >= coalesce(order_totals.order_amount, 0)
            as is_fully_paid

    from orders
    left join order_totals on orders.order_id = order_totals.order_id
    left join payment_totals on orders.order_id = payment_totals.order_id

)

select * from final
