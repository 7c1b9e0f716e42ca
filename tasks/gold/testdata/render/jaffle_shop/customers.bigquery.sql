-- customers: dbt jaffle_shop's customers model, as of partition D.
-- Grain: one row per customer known on D; as_of_date = D. Silver partitions up to
-- D are read, each id taken from its latest ingestion, so a re-delivered row counts
-- once. Amounts are dollars (silver converts the seed's cents).
WITH customers AS (
    SELECT id AS customer_id, first_name, last_name
    FROM `proj.silver.customers`
    WHERE ingestion_dt <= DATE '2026-11-20'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY ingestion_dt DESC) = 1
),
orders AS (
    SELECT id AS order_id, user_id AS customer_id, order_date
    FROM `proj.silver.orders`
    WHERE ingestion_dt <= DATE '2026-11-20'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY ingestion_dt DESC) = 1
),
payments AS (
    SELECT id AS payment_id, order_id, amount
    FROM `proj.silver.payments`
    WHERE ingestion_dt <= DATE '2026-11-20'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY ingestion_dt DESC) = 1
),
customer_orders AS (
    SELECT customer_id,
           MIN(order_date) AS first_order,
           MAX(order_date) AS most_recent_order,
           COUNT(order_id) AS number_of_orders
    FROM orders
    GROUP BY customer_id
),
customer_payments AS (
    SELECT orders.customer_id, SUM(payments.amount) AS total_amount
    FROM payments
    LEFT JOIN orders ON payments.order_id = orders.order_id
    GROUP BY orders.customer_id
)
SELECT DATE '2026-11-20' AS as_of_date,
       customers.customer_id,
       customers.first_name,
       customers.last_name,
       customer_orders.first_order,
       customer_orders.most_recent_order,
       customer_orders.number_of_orders,
       customer_payments.total_amount AS customer_lifetime_value
FROM customers
LEFT JOIN customer_orders ON customers.customer_id = customer_orders.customer_id
LEFT JOIN customer_payments ON customers.customer_id = customer_payments.customer_id
