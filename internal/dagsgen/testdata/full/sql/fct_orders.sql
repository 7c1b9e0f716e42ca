SELECT o.order_id, CAST(o.updated_at AS DATE) AS order_date, l.ltv
FROM silver.orders o LEFT JOIN enriched.ltv l USING (customer_id)
WHERE o.ingestion_dt = {{ partition }}
