-- customer_ltv: the lifetime value of every customer as of day D.
-- Grain: one row per customer known as of D: each customer of the dims.customers
-- snapshot bound for D, plus any customer with an order up to D.
--
-- Orders count up to D (partitions <= D); cancelled orders are counted apart and add
-- no revenue. Refunds are the returns up to D of any of the customer's orders.
-- net_revenue = lifetime_revenue - refund_total; avg_order_value is NULL without orders.
-- Assumes an order lives in one silver partition (the day it was placed).
WITH orders AS (
    SELECT order_id, customer_id, order_ts, status, total_amount
    FROM silver.orders
    WHERE ingestion_dt <= {{ partition }}
),
order_stats AS (
    SELECT customer_id,
           count(*) FILTER (WHERE status <> 'cancelled') AS order_count,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled_order_count,
           coalesce(sum(total_amount) FILTER (WHERE status <> 'cancelled'), 0) AS lifetime_revenue,
           min(order_ts) FILTER (WHERE status <> 'cancelled') AS first_order_ts,
           max(order_ts) FILTER (WHERE status <> 'cancelled') AS last_order_ts
    FROM orders
    GROUP BY customer_id
),
return_stats AS (
    SELECT o.customer_id,
           count(*) AS return_count,
           coalesce(sum(r.refund_amount), 0) AS refund_total
    FROM silver.returns AS r
    JOIN orders AS o USING (order_id)
    WHERE r.ingestion_dt <= {{ partition }}
    GROUP BY o.customer_id
),
customers AS (
    SELECT customer_id, country, signup_ts
    FROM dims.customers
)
SELECT customer_id,
       c.country,
       c.signup_ts,
       coalesce(o.order_count, 0) AS order_count,
       coalesce(o.cancelled_order_count, 0) AS cancelled_order_count,
       coalesce(o.lifetime_revenue, 0) AS lifetime_revenue,
       coalesce(r.return_count, 0) AS return_count,
       coalesce(r.refund_total, 0) AS refund_total,
       coalesce(o.lifetime_revenue, 0) - coalesce(r.refund_total, 0) AS net_revenue,
       round({{ safe_divide "o.lifetime_revenue" "o.order_count" }}, 2) AS avg_order_value,
       o.first_order_ts,
       o.last_order_ts
FROM customers AS c
FULL JOIN order_stats AS o USING (customer_id)
LEFT JOIN return_stats AS r USING (customer_id)
ORDER BY customer_id
