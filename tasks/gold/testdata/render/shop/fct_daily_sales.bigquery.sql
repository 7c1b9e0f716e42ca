-- fct_daily_sales: the shop's day D in one row.
-- Grain: one row; sales_date = D. Headline numbers from enriched.daily_metrics of D;
-- captured money and the share of D's orders whose payments match from
-- enriched.payment_reconciliation of D (NULL share on a day without orders).
WITH payments AS (
    SELECT SUM(captured_amount) AS captured_amount,
           SUM(CASE WHEN reconciliation_status = 'matched' THEN 1 ELSE 0 END) AS matched_orders,
           COUNT(*) AS reconciled_orders
    FROM `proj.enriched.payment_reconciliation`
    WHERE ingestion_dt = DATE '2026-11-20'
)
SELECT DATE '2026-11-20' AS sales_date,
       m.order_count,
       m.cancelled_order_count,
       m.customer_count,
       m.new_customer_count,
       m.revenue,
       m.avg_order_value,
       m.items_sold,
       m.return_count,
       m.refund_total,
       m.net_revenue,
       COALESCE(p.captured_amount, 0) AS captured_amount,
       ROUND(SAFE_DIVIDE(p.matched_orders, p.reconciled_orders), 4) AS payment_match_rate
FROM `proj.enriched.daily_metrics` AS m
CROSS JOIN payments AS p
WHERE m.ingestion_dt = DATE '2026-11-20'
