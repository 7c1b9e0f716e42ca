-- payment_reconciliation: does what was paid for each order of day D match what it should be?
-- Grain: one row per order first seen in silver.orders partition D (not a later
-- version of an order of D-3 .. D-1), with its status as of D.
--
-- expected_amount is total_amount, or 0 for a cancelled order. Payments are the order's
-- payments up to D (partitions <= D), by their final status: captured_amount sums
-- 'captured', authorized_amount 'authorized', refunded_amount 'refunded' (money
-- returned, so not received); failed_attempts counts 'failed'.
-- balance = captured_amount - expected_amount; reconciliation_status is
--   matched    balance = 0
--   pending    a placed order with nothing captured yet (authorized, awaiting capture)
--   underpaid  balance < 0
--   overpaid   balance > 0
-- return_refund_amount (returns up to D) is shown apart: a refunded return does not
-- make an order underpaid.
WITH orders AS (
    SELECT order_id, customer_id, status, currency, total_amount
    FROM silver.orders
    WHERE ingestion_dt = {{ partition }}
      AND order_id NOT IN (SELECT order_id FROM silver.orders   -- first seen on D: not a later version
                           WHERE ingestion_dt BETWEEN {{ partition }} - INTERVAL 3 DAY AND {{ partition }} - INTERVAL 1 DAY)
),
paid AS (
    SELECT p.order_id,
           count(*) AS payment_count,
           coalesce(sum(p.amount) FILTER (WHERE p.status = 'authorized'), 0) AS authorized_amount,
           coalesce(sum(p.amount) FILTER (WHERE p.status = 'captured'), 0) AS captured_amount,
           coalesce(sum(p.amount) FILTER (WHERE p.status = 'refunded'), 0) AS refunded_amount,
           count(*) FILTER (WHERE p.status = 'failed') AS failed_attempts
    FROM silver.payments AS p
    WHERE p.ingestion_dt <= {{ partition }}
      AND p.order_id IN (SELECT order_id FROM orders)
    GROUP BY p.order_id
),
returned AS (
    SELECT r.order_id, sum(r.refund_amount) AS return_refund_amount
    FROM silver.returns AS r
    WHERE r.ingestion_dt <= {{ partition }}
      AND r.order_id IN (SELECT order_id FROM orders)
    GROUP BY r.order_id
),
joined AS (
    SELECT o.order_id,
           o.customer_id,
           o.status AS order_status,
           o.currency,
           o.total_amount AS order_total,
           CASE WHEN o.status = 'cancelled' THEN 0 ELSE o.total_amount END AS expected_amount,
           coalesce(p.payment_count, 0) AS payment_count,
           coalesce(p.authorized_amount, 0) AS authorized_amount,
           coalesce(p.captured_amount, 0) AS captured_amount,
           coalesce(p.refunded_amount, 0) AS refunded_amount,
           coalesce(p.failed_attempts, 0) AS failed_attempts,
           coalesce(r.return_refund_amount, 0) AS return_refund_amount
    FROM orders AS o
    LEFT JOIN paid AS p USING (order_id)
    LEFT JOIN returned AS r USING (order_id)
)
SELECT *,
       captured_amount - expected_amount AS balance,
       CASE
           WHEN captured_amount = expected_amount THEN 'matched'
           WHEN order_status = 'placed' AND captured_amount = 0 THEN 'pending'
           WHEN captured_amount < expected_amount THEN 'underpaid'
           ELSE 'overpaid'
       END AS reconciliation_status
FROM joined
ORDER BY order_id
