with

levels as (

    select * from {{ ref('int_stock_movements_summed_to_levels') }}

),

warehouses as (

    select * from {{ ref('stg_erp__warehouses') }}

),

final as (

    select
        {{ dbt.concat(["cast(levels.product_id as " ~ dbt.type_string() ~ ")", "'-'",
                       "cast(levels.warehouse_id as " ~ dbt.type_string() ~ ")"]) }}
            as stock_level_id,
        levels.product_id,
        levels.warehouse_id,
        warehouses.warehouse_name,
        levels.quantity_on_hand,
        levels.quantity_received,
        levels.quantity_shipped,
        levels.last_moved_at

    from levels
    left join warehouses on levels.warehouse_id = warehouses.warehouse_id

)

select * from final
