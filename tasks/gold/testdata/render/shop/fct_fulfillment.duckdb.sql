-- fct_fulfillment: the shipments of D's orders and those shipped on D, with SLA flags.
-- Grain: shipment_id; fulfillment_date = D. From enriched.fulfillment_sla of D (targets:
-- shipped within 24 hours, delivered within 72 hours of the order).
SELECT DATE '2026-11-20' AS fulfillment_date,
       shipment_id,
       order_id,
       carrier,
       shipment_status,
       order_ts,
       shipped_ts,
       delivered_ts,
       hours_to_ship,
       hours_to_deliver,
       hours_order_to_delivery,
       ship_sla_met,
       delivery_sla_met
FROM "enriched"."fulfillment_sla"
WHERE ingestion_dt = DATE '2026-11-20'
