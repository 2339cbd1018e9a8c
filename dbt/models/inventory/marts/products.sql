with

products as (

    select * from {{ ref('stg_erp__products') }}

),

suppliers as (

    select * from {{ ref('stg_erp__suppliers') }}

),

product_versions as (

    select * from {{ ref('products_snapshot') }}

),

version_summary as (

    select
        product_id,
        count(*) as version_count

    from product_versions
    group by product_id

),

final as (

    select
        products.product_id,
        products.sku,
        products.product_name,
        products.category,
        products.supplier_id,
        suppliers.supplier_name,
        suppliers.lead_time_days,
        products.unit_cost,
        products.list_price,
        cast(products.list_price - products.unit_cost as decimal(12, 2)) as unit_margin,
        coalesce(version_summary.version_count, 1) - 1 as price_change_count

    from products
    left join suppliers on products.supplier_id = suppliers.supplier_id
    left join version_summary on products.product_id = version_summary.product_id

)

select * from final
