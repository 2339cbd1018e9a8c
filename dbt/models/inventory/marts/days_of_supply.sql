-- How many days the stock on hand lasts at the recent rate of sales. Demand comes from the
-- sales domain's public order_items model: the one cross-domain ref of the project.
{%- set demand_window_days = var('demand_window_days', 28) %}

with

stock_levels as (

    select * from {{ ref('stock_levels') }}

),

products as (

    select * from {{ ref('products') }}

),

order_items as (

    select * from {{ ref('order_items', v=1) }}

),

latest_order_date as (

    select max(order_date) as as_of_date from order_items

),

recent_demand as (

    select
        order_items.product_id,
        sum(order_items.quantity) as units_sold

    from order_items
    cross join latest_order_date
    where order_items.order_status != 'cancelled'
        and order_items.order_date > {{
            dbt.dateadd('day', -demand_window_days, 'latest_order_date.as_of_date')
        }}
    group by order_items.product_id

),

stock_per_product as (

    select
        product_id,
        sum(quantity_on_hand) as quantity_on_hand

    from stock_levels
    group by product_id

),

final as (

    select
        products.product_id,
        products.product_name,
        products.lead_time_days,
        coalesce(stock_per_product.quantity_on_hand, 0) as quantity_on_hand,
        coalesce(recent_demand.units_sold, 0) as units_sold_in_window,
        coalesce(recent_demand.units_sold, 0) / {{ demand_window_days }}.0 as avg_daily_units,
        case
            when coalesce(recent_demand.units_sold, 0) = 0 then null
            else coalesce(stock_per_product.quantity_on_hand, 0)
                / (recent_demand.units_sold / {{ demand_window_days }}.0)
        end as days_of_supply

    from products
    left join stock_per_product on products.product_id = stock_per_product.product_id
    left join recent_demand on products.product_id = recent_demand.product_id

),

flagged as (

    select
        *,
        coalesce(days_of_supply < lead_time_days, false) as needs_reorder

    from final

)

select * from flagged
