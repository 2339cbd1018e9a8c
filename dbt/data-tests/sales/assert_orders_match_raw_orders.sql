-- Every raw order appears once in the orders mart, and order amounts add up to the raw lines (over
-- the days a partitioned run built, or all days).
{{ config(tags=['critical'], meta={'dagster': {'ref': {'name': 'orders'}}}) }}

with

raw_orders as (

    select count(*) as order_count from {{ source('shop', 'orders') }}
    where {{ event_time_window_filter(source('shop', 'orders')) or 'true' }}

),

raw_lines as (

    select sum(quantity * unit_price) as amount from {{ source('shop', 'order_items') }}
    where {{ event_time_window_filter(source('shop', 'order_items')) or 'true' }}

),

mart as (

    select
        count(*) as order_count,
        sum(order_amount) as amount
    from {{ ref('orders') }}
    where {{ event_time_window_filter(ref('orders')) or 'true' }}

)

select
    raw_orders.order_count as raw_order_count,
    mart.order_count as mart_order_count,
    raw_lines.amount as raw_amount,
    mart.amount as mart_amount

from raw_orders
cross join raw_lines
cross join mart
where raw_orders.order_count != mart.order_count
    or raw_lines.amount != mart.amount
