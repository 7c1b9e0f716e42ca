-- fct_order_items: one row per order line of day D (silver.order_items partition D).
-- Grain: (order_id, line_no); order_date = D. line_amount = quantity * unit_price -
-- discount; the category is the product's in the dims.products snapshot bound for D;
-- customer and cancellation come from the order of D (NULL if the order is elsewhere).
SELECT DATE '2026-11-20' AS order_date,
       i.order_id,
       i.line_no,
       o.customer_id,
       i.product_id,
       p.category,
       i.quantity,
       i.unit_price,
       COALESCE(i.discount_amount, 0) AS discount_amount,
       i.quantity * i.unit_price - COALESCE(i.discount_amount, 0) AS line_amount,
       COALESCE(o.status = 'cancelled', FALSE) AS is_cancelled
FROM `proj.silver.order_items` AS i
LEFT JOIN `proj.silver.orders` AS o ON o.order_id = i.order_id AND o.ingestion_dt = DATE '2026-11-20'
LEFT JOIN (SELECT * FROM `proj.dims.products` WHERE snapshot_dt = (SELECT MAX(snapshot_dt) FROM `proj.dims.products` WHERE snapshot_dt <= DATE '2026-11-20')) AS p ON p.product_id = i.product_id
WHERE i.ingestion_dt = DATE '2026-11-20'
