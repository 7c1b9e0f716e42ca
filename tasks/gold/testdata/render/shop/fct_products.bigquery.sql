-- fct_products: what each product sold and got back on day D.
-- Grain: product_id with a sale or a return on D; sales_date = D. Figures from
-- enriched.product_performance of D; sku and list price from the dims.products
-- snapshot bound for D. net_revenue = revenue - refunds.
SELECT DATE '2026-11-20' AS sales_date,
       pp.product_id,
       p.sku,
       pp.product_name,
       pp.category,
       p.unit_price AS list_price,
       pp.order_count,
       pp.units_sold,
       pp.revenue,
       pp.discount_total,
       pp.return_count,
       pp.units_returned,
       pp.refund_total,
       pp.revenue - pp.refund_total AS net_revenue,
       pp.return_rate
FROM `proj.enriched.product_performance` AS pp
LEFT JOIN (SELECT * FROM `proj.dims.products` WHERE snapshot_dt = (SELECT MAX(snapshot_dt) FROM `proj.dims.products` WHERE snapshot_dt <= DATE '2026-11-20')) AS p ON p.product_id = pp.product_id
WHERE pp.ingestion_dt = DATE '2026-11-20'
