-- fct_customers: every customer as of day D, with lifetime value and RFM scores.
-- Grain: customer_id; as_of_date = D (a daily snapshot). Values from
-- enriched.customer_ltv of D; scores from enriched.customer_rfm of D (customers
-- without a non-cancelled order have none, and segment 'no_orders').
SELECT DATE '2026-11-20' AS as_of_date,
       l.customer_id,
       l.country,
       l.signup_ts,
       l.order_count,
       l.cancelled_order_count,
       l.lifetime_revenue,
       l.return_count,
       l.refund_total,
       l.net_revenue,
       l.avg_order_value,
       l.first_order_ts,
       l.last_order_ts,
       r.recency_days,
       r.r_score,
       r.f_score,
       r.m_score,
       COALESCE(r.segment, 'no_orders') AS segment
FROM "enriched"."customer_ltv" AS l
LEFT JOIN "enriched"."customer_rfm" AS r ON r.customer_id = l.customer_id AND r.ingestion_dt = DATE '2026-11-20'
WHERE l.ingestion_dt = DATE '2026-11-20'
