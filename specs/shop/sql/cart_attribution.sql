-- cart_attribution: the last-touch marketing channel of every order of day D.
-- Grain: one row per order of silver.orders partition D.
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
),
bounds AS (
    SELECT min(order_ts) - INTERVAL 24 HOUR AS lo, max(order_ts) AS hi
    FROM orders
),
events AS (
    SELECT e.event_id, e.session_id, e.customer_id, coalesce(e.channel, 'direct') AS channel, e.event_ts
    FROM silver.cart_events AS e, bounds AS b
    WHERE e.ingestion_dt <= {{ partition }}
      AND e.customer_id IS NOT NULL
      AND e.event_ts BETWEEN b.lo AND b.hi
),
touches AS (
    -- One candidate per customer and instant: the greatest event_id.
    SELECT customer_id, event_ts,
           max(event_id) AS event_id,
           arg_max(session_id, event_id) AS session_id,
           arg_max(channel, event_id) AS channel
    FROM events
    GROUP BY customer_id, event_ts
),
last_touch AS (
    SELECT o.order_id, o.customer_id, o.order_ts,
           t.event_id, t.session_id, t.channel, t.event_ts,
           t.event_ts IS NOT NULL AND t.event_ts >= o.order_ts - INTERVAL 24 HOUR AS hit
    FROM orders AS o
    ASOF LEFT JOIN touches AS t
      ON o.customer_id = t.customer_id AND o.order_ts >= t.event_ts
),
session_channels AS (
    SELECT l.order_id, count(DISTINCT e.channel) AS session_channel_count
    FROM last_touch AS l
    JOIN events AS e ON e.session_id = l.session_id AND e.event_ts <= l.order_ts
    WHERE l.hit
    GROUP BY l.order_id
)
SELECT l.order_id,
       l.customer_id,
       l.order_ts,
       l.hit AS attributed,
       CASE WHEN l.hit THEN l.channel ELSE 'direct' END AS channel,
       CASE WHEN l.hit THEN l.session_id END AS session_id,
       CASE WHEN l.hit THEN l.event_id END AS last_touch_event_id,
       CASE WHEN l.hit THEN l.event_ts END AS last_touch_ts,
       CASE WHEN l.hit THEN round({{ date_diff "second" "l.event_ts" "l.order_ts" }} / 60.0, 2) END AS minutes_to_order,
       coalesce(s.session_channel_count, 0) AS session_channel_count
FROM last_touch AS l
LEFT JOIN session_channels AS s USING (order_id)
ORDER BY l.order_id
