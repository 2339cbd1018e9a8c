{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='order_date',
          partition_by=daily_partition_by('order_date')) }}

with

order_items as (

    select * from {{ ref('order_items') }}

),

daily as (

    select
        order_date,
        count(distinct order_id) as order_count,
        sum(quantity) as unit_count,
        sum(line_amount) as gross_revenue,
        sum(case when order_status = 'cancelled' then 0 else line_amount end) as net_revenue

    from order_items
    group by order_date

),

final as (

    select * from daily

)

select * from final
