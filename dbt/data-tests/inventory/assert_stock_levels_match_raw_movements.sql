-- Stock on hand across all products and warehouses equals the sum of the raw movements.
{{ config(tags=['critical'], meta={'dagster': {'ref': {'name': 'stock_levels'}}}) }}

with

raw_movements as (

    select sum(quantity) as quantity from {{ source('erp', 'stock_movements') }}

),

mart as (

    select sum(quantity_on_hand) as quantity from {{ ref('stock_levels') }}

)

select
    raw_movements.quantity as raw_quantity,
    mart.quantity as mart_quantity

from raw_movements
cross join mart
where raw_movements.quantity != mart.quantity
