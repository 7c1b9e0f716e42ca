-- customer_ltv: the lifetime value of every customer as of day D (incremental).
-- Grain: one row per customer known as of D: each customer of the dims.customers
-- snapshot bound for D, plus any customer with an order up to D.
--
-- An order counts once, by its latest version up to D: a status change arrives as a
-- new version in a later silver partition (within dedup.versions_within, 3 days, of
-- its first), and the later partition's version replaces the earlier one. An order
-- whose status is neither cancelled nor NULL adds to order_count and
-- lifetime_revenue; a cancelled one to cancelled_order_count; a NULL status to
-- unknown_status_order_count (no revenue). Refunds are the returns up to D of the
-- customer's orders (the order's customer as of the return's day).
-- net_revenue = lifetime_revenue - refund_total; avg_order_value is
-- lifetime_revenue / order_count in cents, rounded half away from zero (NULL without
-- orders). Money is DECIMAL(18,2).
--
-- Incremental: partition D is {{ previous }} (partition D-1) plus the day's changes,
-- reading silver.orders partitions D-3 .. D only (the versions window):
--   counts and sums add, per order version of partition D, its contribution minus
--   that of the order's previous version (its latest in D-3 .. D-1, if any);
--   first/last_order_ts are a min/max, which a cancelled last order cannot undo by
--   subtraction, so the state keeps settled_first/last_order_ts over the settled
--   orders (latest version in a partition <= D-3: no version can follow) and adds
--   the open ones (latest version in D-2 .. D) each day.
-- The first build starts from an empty state: build from the first day of silver.
WITH recent AS (
    SELECT order_id, customer_id, order_ts, total_amount, ingestion_dt,
           CASE WHEN status = 'cancelled' THEN 'cancelled'
                WHEN status IS NULL THEN 'unknown'
                ELSE 'ordered' END AS state
    FROM silver.orders
    WHERE ingestion_dt BETWEEN {{ partition }} - INTERVAL 3 DAY AND {{ partition }}
),
today AS (
    SELECT * FROM recent WHERE ingestion_dt = {{ partition }}
),
-- The version each order of D replaces: its latest before D.
replaced AS (
    SELECT *
    FROM recent
    WHERE ingestion_dt < {{ partition }}
      AND order_id IN (SELECT order_id FROM today)
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY ingestion_dt DESC) = 1
),
changes AS (
    SELECT customer_id, state, total_amount, 1 AS sign FROM today
    UNION ALL
    SELECT customer_id, state, total_amount, -1 AS sign FROM replaced
),
delta AS (
    SELECT customer_id,
           sum(sign) FILTER (WHERE state = 'ordered') AS orders,
           sum(sign) FILTER (WHERE state = 'cancelled') AS cancelled,
           sum(sign) FILTER (WHERE state = 'unknown') AS unknown,
           sum(sign * total_amount) FILTER (WHERE state = 'ordered') AS revenue
    FROM changes
    GROUP BY customer_id
),
-- Orders whose latest version is in D-3 and none later: settled from today on.
settling AS (
    SELECT customer_id,
           min(order_ts) FILTER (WHERE state = 'ordered') AS first_ts,
           max(order_ts) FILTER (WHERE state = 'ordered') AS last_ts
    FROM recent
    WHERE ingestion_dt = {{ partition }} - INTERVAL 3 DAY
      AND order_id NOT IN (SELECT order_id FROM recent WHERE ingestion_dt > {{ partition }} - INTERVAL 3 DAY)
    GROUP BY customer_id
),
-- Orders still open: their latest version is in D-2 .. D.
open AS (
    SELECT customer_id,
           min(order_ts) FILTER (WHERE state = 'ordered') AS first_ts,
           max(order_ts) FILTER (WHERE state = 'ordered') AS last_ts
    FROM (
        SELECT *
        FROM recent
        WHERE ingestion_dt > {{ partition }} - INTERVAL 3 DAY
        QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY ingestion_dt DESC) = 1
    )
    GROUP BY customer_id
),
returned AS (
    SELECT o.customer_id,
           count(*) AS returns,
           sum(r.refund_amount) AS refunds
    FROM silver.returns AS r
    JOIN silver.orders_latest AS o USING (order_id)
    WHERE r.ingestion_dt = {{ partition }}
    GROUP BY o.customer_id
),
customers AS (
    SELECT customer_id, country, signup_ts
    FROM dims.customers
),
keys AS (
    SELECT customer_id FROM customers
    UNION SELECT customer_id FROM {{ previous }}
    UNION SELECT customer_id FROM delta
    UNION SELECT customer_id FROM open
    UNION SELECT customer_id FROM returned
),
state AS (
    SELECT k.customer_id,
           c.customer_id IS NOT NULL AS known,
           CAST(coalesce(p.order_count, 0) + coalesce(d.orders, 0) AS BIGINT) AS order_count,
           CAST(coalesce(p.cancelled_order_count, 0) + coalesce(d.cancelled, 0) AS BIGINT) AS cancelled_order_count,
           CAST(coalesce(p.unknown_status_order_count, 0) + coalesce(d.unknown, 0) AS BIGINT) AS unknown_status_order_count,
           CAST(coalesce(p.lifetime_revenue, 0) + coalesce(d.revenue, 0) AS DECIMAL(18,2)) AS lifetime_revenue,
           CAST(coalesce(p.return_count, 0) + coalesce(r.returns, 0) AS BIGINT) AS return_count,
           CAST(coalesce(p.refund_total, 0) + coalesce(r.refunds, 0) AS DECIMAL(18,2)) AS refund_total,
           least(p.settled_first_order_ts, s.first_ts) AS settled_first_order_ts,
           greatest(p.settled_last_order_ts, s.last_ts) AS settled_last_order_ts,
           o.first_ts AS open_first_ts,
           o.last_ts AS open_last_ts,
           c.country,
           c.signup_ts
    FROM keys AS k
    LEFT JOIN {{ previous }} AS p USING (customer_id)
    LEFT JOIN delta AS d USING (customer_id)
    LEFT JOIN settling AS s USING (customer_id)
    LEFT JOIN open AS o USING (customer_id)
    LEFT JOIN returned AS r USING (customer_id)
    LEFT JOIN customers AS c USING (customer_id)
)
SELECT customer_id,
       country,
       signup_ts,
       order_count,
       cancelled_order_count,
       unknown_status_order_count,
       lifetime_revenue,
       return_count,
       refund_total,
       CAST(lifetime_revenue - refund_total AS DECIMAL(18,2)) AS net_revenue,
       {{ money_divide "lifetime_revenue" "NULLIF(order_count, 0)" }} AS avg_order_value,
       least(settled_first_order_ts, open_first_ts) AS first_order_ts,
       greatest(settled_last_order_ts, open_last_ts) AS last_order_ts,
       settled_first_order_ts,
       settled_last_order_ts
FROM state
WHERE known OR order_count + cancelled_order_count + unknown_status_order_count > 0
ORDER BY customer_id
