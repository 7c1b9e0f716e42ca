-- fct_payments: what was paid for each order placed on day D.
-- Grain: order_id of silver.orders partition D; order_date = D. From
-- enriched.payment_reconciliation of D (see it for the statuses).
SELECT DATE '2026-11-20' AS order_date,
       order_id,
       customer_id,
       order_status,
       currency,
       order_total,
       expected_amount,
       payment_count,
       authorized_amount,
       captured_amount,
       refunded_amount,
       failed_attempts,
       return_refund_amount,
       balance,
       reconciliation_status
FROM `proj.enriched.payment_reconciliation`
WHERE ingestion_dt = DATE '2026-11-20'
