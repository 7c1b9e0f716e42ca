-- product_performance: what each product sold and got back on day D.
-- Grain: one row per product with a sale (an item of partition D whose order, by its
-- latest version up to D, is not cancelled) or a return (returns partition D) on day D.
--
-- revenue = sum(quantity * unit_price - discount_amount) of the sold items;
-- return_rate = units_returned / units_sold of the same day (NULL without sales), a
-- daily signal rather than the return rate of a cohort of orders.
-- Name and category come from the dims.products snapshot bound for D.
WITH sold AS (
    SELECT i.product_id,
           count(DISTINCT i.order_id) AS order_count,
           sum(i.quantity) AS units_sold,
           sum(i.quantity * i.unit_price - coalesce(i.discount_amount, 0)) AS revenue,
           sum(coalesce(i.discount_amount, 0)) AS discount_total
    FROM silver.order_items AS i
    JOIN silver.orders_latest AS o ON o.order_id = i.order_id
    WHERE i.ingestion_dt = {{ partition }}
      AND o.status <> 'cancelled'
    GROUP BY i.product_id
),
returned AS (
    SELECT product_id,
           count(*) AS return_count,
           sum(quantity) AS units_returned,
           coalesce(sum(refund_amount), 0) AS refund_total
    FROM silver.returns
    WHERE ingestion_dt = {{ partition }}
    GROUP BY product_id
)
SELECT product_id,
       p.name AS product_name,
       p.category,
       coalesce(s.order_count, 0) AS order_count,
       coalesce(s.units_sold, 0) AS units_sold,
       coalesce(s.revenue, 0) AS revenue,
       coalesce(s.discount_total, 0) AS discount_total,
       coalesce(r.return_count, 0) AS return_count,
       coalesce(r.units_returned, 0) AS units_returned,
       coalesce(r.refund_total, 0) AS refund_total,
       round({{ safe_divide "coalesce(r.units_returned, 0)" "s.units_sold" }}, 4) AS return_rate
FROM sold AS s
FULL JOIN returned AS r USING (product_id)
LEFT JOIN dims.products AS p USING (product_id)
ORDER BY product_id
