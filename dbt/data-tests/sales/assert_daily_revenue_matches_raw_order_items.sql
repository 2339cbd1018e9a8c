-- Revenue in daily_revenue must equal the sum of the raw order lines, to the cent (over the days
-- a partitioned run built, or all days).
{{ config(tags=['critical'], meta={'dagster': {'ref': {'name': 'daily_revenue'}}}) }}

with

raw_lines as (

    select sum(quantity * unit_price) as gross_revenue
    from {{ source('shop', 'order_items') }}
    where {{ event_time_window_filter(source('shop', 'order_items')) or 'true' }}

),

mart as (

    select sum(gross_revenue) as gross_revenue
    from {{ ref('daily_revenue') }}
    where {{ event_time_window_filter(ref('daily_revenue')) or 'true' }}

)

select
    raw_lines.gross_revenue as raw_gross_revenue,
    mart.gross_revenue as mart_gross_revenue

from raw_lines
cross join mart
where raw_lines.gross_revenue != mart.gross_revenue
