SELECT o.customer_id, sum(o.total) AS ltv
FROM silver.orders AS o
JOIN dims.customers AS c USING (customer_id)
WHERE o.ingestion_dt <= {{ partition }}
GROUP BY 1
