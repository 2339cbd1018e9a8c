with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

orders as (

    select * from {{ ref('orders') }}

),

customer_versions as (

    select * from {{ ref('customers_snapshot') }}

),

order_summary as (

    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as order_count,
        sum(case when status != 'cancelled' then order_amount else 0 end) as lifetime_revenue

    from orders
    group by customer_id

),

version_summary as (

    select
        customer_id,
        count(*) as version_count

    from customer_versions
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.customer_name,
        customers.email,
        customers.tier,
        customers.city,
        customers.country,
        customers.signup_date,
        order_summary.first_order_date,
        order_summary.last_order_date,
        coalesce(order_summary.order_count, 0) as order_count,
        cast(coalesce(order_summary.lifetime_revenue, 0) as decimal(18, 2)) as lifetime_revenue,
        coalesce(version_summary.version_count, 1) - 1 as change_count

    from customers
    left join order_summary on customers.customer_id = order_summary.customer_id
    left join version_summary on customers.customer_id = version_summary.customer_id

)

select * from final
