-- dim_products: the product catalogue as of day D.
-- Grain: product_id; as_of_date = D. The dims.products snapshot bound for D (the
-- latest on or before D).
SELECT {{ partition }} AS as_of_date,
       product_id,
       sku,
       name,
       category,
       unit_price,
       active,
       snapshot_dt
FROM dims.products
