-- fct_funnel: the funnel of day D per channel.
-- Grain: channel with a session or an order on D; event_date = D. Steps and rates
-- from enriched.funnel_conversion of D; order_share is the channel's share of D's orders.
SELECT DATE '2026-11-20' AS event_date,
       channel,
       sessions,
       product_view_sessions,
       add_to_cart_sessions,
       checkout_sessions,
       orders,
       view_rate,
       cart_rate,
       checkout_rate,
       order_rate,
       ROUND(SAFE_DIVIDE(orders, SUM(orders) OVER ()), 4) AS order_share
FROM `proj.enriched.funnel_conversion`
WHERE ingestion_dt = DATE '2026-11-20'
