-- daily_metrics: the shop's headline numbers for day D.
-- Grain: exactly one row, for day D (also on a day without orders).
--
-- The orders of D are those first seen in silver.orders partition D (a later version
-- of an order of D-3 .. D-1, a status change, is not a new order), as they stand on D.
-- order_count, revenue, customer_count, avg_order_value and items_sold count those
-- neither cancelled nor of unknown (NULL) status (and their items of partition D);
-- cancelled and unknown-status orders are counted apart. avg_order_value is DECIMAL
-- cents, rounded half away from zero. Returns and refunds are those of partition D;
-- net_revenue = revenue - refund_total. new_customer_count counts customers of the
-- dims.customers snapshot bound for D who signed up on D.
WITH orders AS (
    SELECT order_id, customer_id, status, total_amount
    FROM silver.orders
    WHERE ingestion_dt = {{ partition }}
      AND order_id NOT IN (SELECT order_id FROM silver.orders   -- first seen on D: not a later version
                           WHERE ingestion_dt BETWEEN {{ partition }} - INTERVAL 3 DAY AND {{ partition }} - INTERVAL 1 DAY)
),
totals AS (
    SELECT count(*) FILTER (WHERE status <> 'cancelled') AS order_count,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled_order_count,
           count(*) FILTER (WHERE status IS NULL) AS unknown_status_order_count,
           count(DISTINCT customer_id) FILTER (WHERE status <> 'cancelled') AS customer_count,
           coalesce(sum(total_amount) FILTER (WHERE status <> 'cancelled'), 0) AS revenue
    FROM orders
),
items AS (
    SELECT coalesce(sum(i.quantity), 0) AS items_sold
    FROM silver.order_items AS i
    JOIN orders AS o USING (order_id)
    WHERE i.ingestion_dt = {{ partition }}
      AND o.status <> 'cancelled'
),
refunds AS (
    SELECT count(*) AS return_count,
           coalesce(sum(refund_amount), 0) AS refund_total
    FROM silver.returns
    WHERE ingestion_dt = {{ partition }}
),
signups AS (
    SELECT count(*) AS new_customer_count
    FROM dims.customers
    WHERE CAST(signup_ts AS DATE) = {{ partition }}
)
SELECT {{ partition }} AS metric_date,
       t.order_count,
       t.cancelled_order_count,
       t.unknown_status_order_count,
       t.customer_count,
       s.new_customer_count,
       t.revenue,
       {{ money_divide "t.revenue" "t.order_count" }} AS avg_order_value,
       i.items_sold,
       r.return_count,
       r.refund_total,
       t.revenue - r.refund_total AS net_revenue
FROM totals AS t, items AS i, refunds AS r, signups AS s
