-- cart_attribution: the last-touch marketing channel of every order of day D.
-- Grain: one row per order first seen in silver.orders partition D (a later version of
-- an order of D-3 .. D-1, a status change, was attributed on its own day).
--
-- Attribution rule (last touch, 24 hours): an order's touch is its customer's latest
-- cart event (any session, any event type) with event_ts at or before order_ts and at
-- most 24 hours before it, found with an ASOF JOIN. Several events of the customer at
-- the same instant are ordered by event_id and the greatest wins, so the answer never
-- depends on scan order. The order takes the touch's channel and session
-- (attributed = true); an event without a channel counts as 'direct'.
-- An order without a touch in the window gets channel 'direct' and attributed = false,
-- with NULL session and touch columns. Events are read as of D (partitions <= D).
-- session_channel_count is how many channels the attributed session touched up to the order.
WITH orders AS (
    SELECT order_id, customer_id, order_ts
    FROM silver.orders
    WHERE ingestion_dt = {{ partition }}
      AND order_id NOT IN (SELECT order_id FROM silver.orders   -- first seen on D: not a later version
                           WHERE ingestion_dt BETWEEN {{ partition }} - INTERVAL 3 DAY AND {{ partition }} - INTERVAL 1 DAY)
),
bounds AS (
    SELECT min(order_ts) - INTERVAL 24 HOUR AS lo, max(order_ts) AS hi
    FROM orders
),
-- Scanned where used rather than materialized: less memory, and the scans are cheap.
events AS NOT MATERIALIZED (
    SELECT e.event_id, e.session_id, e.customer_id, coalesce(e.channel, 'direct') AS channel, e.event_ts
    FROM silver.cart_events AS e, bounds AS b
    WHERE e.ingestion_dt <= {{ partition }}
      AND e.customer_id IS NOT NULL
      AND e.event_ts BETWEEN b.lo AND b.hi
),
-- The latest instant at or before the order with an event of its customer.
nearest AS (
    SELECT o.order_id, o.customer_id, o.order_ts, e.event_ts
    FROM orders AS o
    ASOF LEFT JOIN (SELECT customer_id, event_ts FROM events) AS e
      ON o.customer_id = e.customer_id AND o.order_ts >= e.event_ts
),
-- The touch: of the events at that instant, the greatest event_id; none if older than 24 hours.
touch AS (
    SELECT n.order_id,
           max(e.event_id) AS event_id,
           arg_max(e.session_id, e.event_id) AS session_id,
           arg_max(e.channel, e.event_id) AS channel
    FROM nearest AS n
    JOIN events AS e ON e.customer_id = n.customer_id AND e.event_ts = n.event_ts
    WHERE n.event_ts >= n.order_ts - INTERVAL 24 HOUR
    GROUP BY n.order_id
),
session_channels AS (
    SELECT t.order_id, count(DISTINCT e.channel) AS session_channel_count
    FROM touch AS t
    JOIN nearest AS n USING (order_id)
    JOIN events AS e ON e.session_id = t.session_id AND e.event_ts <= n.order_ts
    GROUP BY t.order_id
)
SELECT n.order_id, n.customer_id, n.order_ts,
       t.order_id IS NOT NULL AS attributed,
       coalesce(t.channel, 'direct') AS channel,
       t.session_id,
       t.event_id AS last_touch_event_id,
       CASE WHEN t.order_id IS NOT NULL THEN n.event_ts END AS last_touch_ts,
       CASE WHEN t.order_id IS NOT NULL THEN round({{ date_diff "second" "n.event_ts" "n.order_ts" }} / 60.0, 2) END AS minutes_to_order,
       coalesce(s.session_channel_count, 0) AS session_channel_count
FROM nearest AS n
LEFT JOIN touch AS t USING (order_id)
LEFT JOIN session_channels AS s USING (order_id)
ORDER BY n.order_id
