-- dim_products: the product catalogue as of day D.
-- Grain: product_id; as_of_date = D. The dims.products snapshot bound for D (the
-- latest on or before D).
SELECT DATE '2026-11-20' AS as_of_date,
       product_id,
       sku,
       name,
       category,
       unit_price,
       active,
       snapshot_dt
FROM (SELECT * FROM "dims"."products" WHERE snapshot_dt = (SELECT MAX(snapshot_dt) FROM "dims"."products" WHERE snapshot_dt <= DATE '2026-11-20')) AS products
