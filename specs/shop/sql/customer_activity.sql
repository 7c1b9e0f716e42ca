-- customer_activity: what each customer ordered in each month, as of day D (incremental).
-- Grain: one row per (customer_id, activity_month) with at least one order in that
-- month whose latest version up to D is neither cancelled nor of unknown (NULL)
-- status; activity_month is the month of order_ts.
--
-- An order counts once, by its latest version up to D (a later silver partition's
-- version replaces an earlier one; all arrive within dedup.versions_within, 3 days).
-- Incremental: partition D is {{ previous }} (partition D-1) plus, per order version
-- of partition D, its contribution minus that of the version it replaces (the
-- order's latest in D-3 .. D-1); a month whose count falls to 0 is dropped. Reads
-- silver.orders partitions D-3 .. D only. The first build starts from an empty
-- state: build from the first day of silver. Feeds cohort_retention.
WITH recent AS (
    SELECT order_id, customer_id, total_amount, ingestion_dt,
           CAST({{ date_trunc "month" "order_ts" }} AS DATE) AS activity_month,
           status IS NOT NULL AND status <> 'cancelled' AS counts
    FROM silver.orders
    WHERE ingestion_dt BETWEEN {{ partition }} - INTERVAL 3 DAY AND {{ partition }}
),
today AS (
    SELECT * FROM recent WHERE ingestion_dt = {{ partition }}
),
replaced AS (
    SELECT *
    FROM recent
    WHERE ingestion_dt < {{ partition }}
      AND order_id IN (SELECT order_id FROM today)
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY ingestion_dt DESC) = 1
),
delta AS (
    SELECT customer_id, activity_month,
           sum(sign) AS orders,
           sum(sign * total_amount) AS revenue
    FROM (
        SELECT customer_id, activity_month, total_amount, 1 AS sign FROM today WHERE counts
        UNION ALL
        SELECT customer_id, activity_month, total_amount, -1 AS sign FROM replaced WHERE counts
    )
    GROUP BY customer_id, activity_month
),
merged AS (
    SELECT customer_id, activity_month, order_count AS orders, revenue FROM {{ previous }}
    UNION ALL
    SELECT customer_id, activity_month, orders, revenue FROM delta
)
SELECT customer_id,
       activity_month,
       CAST(sum(orders) AS BIGINT) AS order_count,
       CAST(sum(revenue) AS DECIMAL(18,2)) AS revenue
FROM merged
GROUP BY customer_id, activity_month
HAVING sum(orders) > 0
ORDER BY customer_id, activity_month
