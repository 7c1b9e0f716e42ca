-- fct_orders: one row per order placed on day D: first seen in silver.orders partition D
-- (a later version of an order of D-3 .. D-1, a status change, is not a new order).
-- Grain: order_id; order_date = D. Lines, units and discounts from the order's items
-- of D; the last-touch channel from enriched.cart_attribution ('direct' when no
-- touch); captured money and the reconciliation status from
-- enriched.payment_reconciliation.
WITH items AS (
    SELECT order_id,
           COUNT(*) AS line_count,
           SUM(quantity) AS units,
           SUM(COALESCE(discount_amount, 0)) AS discount_total
    FROM silver.order_items
    WHERE ingestion_dt = {{ partition }}
    GROUP BY order_id
),
attribution AS (
    SELECT order_id, channel, attributed
    FROM enriched.cart_attribution
    WHERE ingestion_dt = {{ partition }}
),
payments AS (
    SELECT order_id, captured_amount, reconciliation_status
    FROM enriched.payment_reconciliation
    WHERE ingestion_dt = {{ partition }}
)
SELECT {{ partition }} AS order_date,
       o.order_id,
       o.customer_id,
       o.order_ts,
       o.status,
       o.currency,
       o.total_amount,
       COALESCE(o.status = 'cancelled', FALSE) AS is_cancelled,
       COALESCE(i.line_count, 0) AS line_count,
       COALESCE(i.units, 0) AS units,
       COALESCE(i.discount_total, 0) AS discount_total,
       COALESCE(a.channel, 'direct') AS channel,
       COALESCE(a.attributed, FALSE) AS attributed,
       COALESCE(p.captured_amount, 0) AS captured_amount,
       p.reconciliation_status
FROM silver.orders AS o
LEFT JOIN items AS i ON i.order_id = o.order_id
LEFT JOIN attribution AS a ON a.order_id = o.order_id
LEFT JOIN payments AS p ON p.order_id = o.order_id
WHERE o.ingestion_dt = {{ partition }}
  AND o.order_id NOT IN (SELECT order_id FROM silver.orders
                         WHERE ingestion_dt BETWEEN {{ date_add "day" -3 partition }} AND {{ date_add "day" -1 partition }})
