-- returns_analysis: the returns of day D by reason and product category.
-- Grain: one row per (reason, category) with a return in silver.returns partition D;
-- a product missing from the dims.products snapshot bound for D, or a return
-- without a reason, shows as 'unknown'.
--
-- return_rate = units returned on D / units of the category sold in the 30 days up to D
-- (items of partitions D-29 .. D whose order, by its latest version up to D, is not
-- cancelled); NULL when none were sold. avg_refund is DECIMAL cents.
WITH products AS (
    SELECT product_id, category
    FROM dims.products
),
returned AS (
    SELECT coalesce(r.reason, 'unknown') AS reason,
           coalesce(p.category, 'unknown') AS category,
           count(*) AS return_count,
           count(DISTINCT r.order_id) AS orders_affected,
           sum(r.quantity) AS units_returned,
           coalesce(sum(r.refund_amount), 0) AS refund_total
    FROM silver.returns AS r
    LEFT JOIN products AS p USING (product_id)
    WHERE r.ingestion_dt = {{ partition }}
    GROUP BY ALL
),
sold AS (
    SELECT coalesce(p.category, 'unknown') AS category,
           sum(i.quantity) AS units_sold_30d
    FROM silver.order_items AS i
    JOIN silver.orders_latest AS o ON o.order_id = i.order_id
    LEFT JOIN products AS p ON p.product_id = i.product_id
    WHERE i.ingestion_dt BETWEEN {{ partition }} - INTERVAL 29 DAY AND {{ partition }}
      AND o.status <> 'cancelled'
    GROUP BY ALL
)
SELECT r.reason,
       r.category,
       r.return_count,
       r.orders_affected,
       r.units_returned,
       r.refund_total,
       {{ money_divide "r.refund_total" "r.return_count" }} AS avg_refund,
       coalesce(s.units_sold_30d, 0) AS units_sold_30d,
       round({{ safe_divide "r.units_returned" "s.units_sold_30d" }}, 4) AS return_rate
FROM returned AS r
LEFT JOIN sold AS s USING (category)
ORDER BY r.reason, r.category
