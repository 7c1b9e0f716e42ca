-- funnel_conversion: how the sessions of day D move through the funnel, per channel.
-- Grain: one row per channel with a session or an order on day D.
--
-- A session is the cart events of partition D sharing a session_id. It counts under its
-- last-touch channel: the channel of its latest event (same instant: greatest event_id),
-- the rule enriched.cart_attribution applies to orders, so order_rate compares like
-- with like. Steps: sessions with a product_view, with an add_to_cart, with a
-- checkout_started; orders are the orders of D by their attributed channel
-- (unattributed orders count under 'direct'). Rates divide by sessions (NULL without).
WITH sessions AS (
    SELECT session_id,
           first(coalesce(channel, 'direct') ORDER BY event_ts DESC, event_id DESC) AS channel,
           bool_or(event_type = 'product_view') AS viewed,
           bool_or(event_type = 'add_to_cart') AS added,
           bool_or(event_type = 'checkout_started') AS checked_out
    FROM silver.cart_events
    WHERE ingestion_dt = {{ partition }}
    GROUP BY session_id
),
steps AS (
    SELECT channel,
           count(*) AS sessions,
           count(*) FILTER (WHERE viewed) AS product_view_sessions,
           count(*) FILTER (WHERE added) AS add_to_cart_sessions,
           count(*) FILTER (WHERE checked_out) AS checkout_sessions
    FROM sessions
    GROUP BY channel
),
orders AS (
    SELECT channel, count(*) AS orders
    FROM enriched.cart_attribution
    WHERE ingestion_dt = {{ partition }}
    GROUP BY channel
)
SELECT channel,
       coalesce(s.sessions, 0) AS sessions,
       coalesce(s.product_view_sessions, 0) AS product_view_sessions,
       coalesce(s.add_to_cart_sessions, 0) AS add_to_cart_sessions,
       coalesce(s.checkout_sessions, 0) AS checkout_sessions,
       coalesce(o.orders, 0) AS orders,
       round({{ safe_divide "s.product_view_sessions" "s.sessions" }}, 4) AS view_rate,
       round({{ safe_divide "s.add_to_cart_sessions" "s.sessions" }}, 4) AS cart_rate,
       round({{ safe_divide "s.checkout_sessions" "s.sessions" }}, 4) AS checkout_rate,
       round({{ safe_divide "coalesce(o.orders, 0)" "s.sessions" }}, 4) AS order_rate
FROM steps AS s
FULL JOIN orders AS o USING (channel)
ORDER BY channel
