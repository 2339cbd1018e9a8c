-- Every order's customer is in the customers dimension. A check on customers, not on orders:
-- orders are built a day at a time in the partitioned op, and the customers dimension after them
-- in the unpartitioned one, which is where a test that reads both can run.
{{ config(tags=['critical'], meta={'dagster': {'ref': {'name': 'customers'}}}) }}

select
    orders.order_id,
    orders.customer_id

from {{ ref('orders') }} as orders
left join {{ ref('customers') }} as customers
    on orders.customer_id = customers.customer_id
where customers.customer_id is null
