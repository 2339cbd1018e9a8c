-- Revenue in daily_revenue must equal the sum of the raw order lines, to the cent.
{{ config(meta={'dagster': {'ref': {'name': 'daily_revenue'}}}) }}

with

raw_lines as (

    select sum(quantity * unit_price) as gross_revenue
    from {{ source('shop', 'order_items') }}

),

mart as (

    select sum(gross_revenue) as gross_revenue
    from {{ ref('daily_revenue') }}

)

select
    raw_lines.gross_revenue as raw_gross_revenue,
    mart.gross_revenue as mart_gross_revenue

from raw_lines
cross join mart
where raw_lines.gross_revenue != mart.gross_revenue
