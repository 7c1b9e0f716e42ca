-- fulfillment_sla: how fast the shipments of day D's orders, and those shipped on D, moved.
-- Grain: one row per shipment whose order is first seen in silver.orders partition D
-- (not a later version of an order of D-3 .. D-1) or whose
-- shipped_ts falls on D (shipments read as of D; a shipment seen in several partitions
-- keeps its row of the latest one).
--
-- hours_to_ship = order_ts -> shipped_ts, hours_to_deliver = shipped_ts -> delivered_ts,
-- hours_order_to_delivery = order_ts -> delivered_ts (exact hours, 2 decimals).
-- Targets: shipped within 24 hours of the order, delivered within 72 hours of it.
-- A *_sla_met flag is true or false once the event happened; before that it is false
-- when the deadline passed by the end of D, and NULL while it can still be met.
WITH day_orders AS (
    SELECT order_id
    FROM silver.orders
    WHERE ingestion_dt = {{ partition }}
      AND order_id NOT IN (SELECT order_id FROM silver.orders   -- first seen on D: not a later version
                           WHERE ingestion_dt BETWEEN {{ partition }} - INTERVAL 3 DAY AND {{ partition }} - INTERVAL 1 DAY)
),
candidates AS (
    SELECT shipment_id, order_id, carrier, status, shipped_ts, delivered_ts
    FROM silver.shipments
    WHERE ingestion_dt <= {{ partition }}
      AND (CAST(shipped_ts AS DATE) = {{ partition }} OR order_id IN (SELECT order_id FROM day_orders))
    QUALIFY row_number() OVER (PARTITION BY shipment_id ORDER BY ingestion_dt DESC) = 1
),
timed AS (
    SELECT s.*,
           o.order_ts,
           {{ date_diff "second" "o.order_ts" "s.shipped_ts" }} / 3600.0 AS h_ship,
           {{ date_diff "second" "s.shipped_ts" "s.delivered_ts" }} / 3600.0 AS h_deliver,
           {{ date_diff "second" "o.order_ts" "s.delivered_ts" }} / 3600.0 AS h_total,
           {{ partition }} + INTERVAL 1 DAY AS end_of_day
    FROM candidates AS s
    JOIN silver.orders_latest AS o ON o.order_id = s.order_id
)
SELECT shipment_id,
       order_id,
       carrier,
       status AS shipment_status,
       order_ts,
       shipped_ts,
       delivered_ts,
       round(h_ship, 2) AS hours_to_ship,
       round(h_deliver, 2) AS hours_to_deliver,
       round(h_total, 2) AS hours_order_to_delivery,
       CASE
           WHEN shipped_ts IS NOT NULL THEN h_ship <= 24
           WHEN order_ts + INTERVAL 24 HOUR < end_of_day THEN false
       END AS ship_sla_met,
       CASE
           WHEN delivered_ts IS NOT NULL THEN h_total <= 72
           WHEN order_ts + INTERVAL 72 HOUR < end_of_day THEN false
       END AS delivery_sla_met
FROM timed
ORDER BY shipment_id
