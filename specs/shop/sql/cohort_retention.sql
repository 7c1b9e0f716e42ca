-- cohort_retention: how many customers of each signup month order in each later month, as of day D.
-- Grain: one row per (cohort_month, activity_month), for every month from the cohort's
-- own month to D's month (months without activity included, as zeros).
--
-- A customer's cohort is the month of signup_ts in the dims.customers snapshot bound
-- for D (customers without signup_ts, or signed up after D, are left out). A customer
-- is active in a month with at least one order in it that is neither cancelled nor of
-- unknown status, each order by its latest version up to D: from
-- enriched.customer_activity of D, which keeps that per customer and month
-- incrementally, so no history is read. retention_rate = active_customers / cohort_size.
WITH cohorts AS (
    SELECT customer_id,
           CAST({{ date_trunc "month" "signup_ts" }} AS DATE) AS cohort_month
    FROM dims.customers
    WHERE signup_ts IS NOT NULL
      AND CAST(signup_ts AS DATE) <= {{ partition }}
),
sizes AS (
    SELECT cohort_month, count(*) AS cohort_size
    FROM cohorts
    GROUP BY cohort_month
),
grid AS (
    SELECT cohort_month, cohort_size,
           CAST(unnest(generate_series(CAST(cohort_month AS TIMESTAMP),
                                       CAST({{ date_trunc "month" partition }} AS TIMESTAMP),
                                       INTERVAL 1 MONTH)) AS DATE) AS activity_month
    FROM sizes
),
activity AS (
    SELECT c.cohort_month,
           a.activity_month,
           count(DISTINCT a.customer_id) AS active_customers,
           sum(a.order_count) AS order_count,
           sum(a.revenue) AS revenue
    FROM enriched.customer_activity AS a
    JOIN cohorts AS c USING (customer_id)
    WHERE a.ingestion_dt = {{ partition }}
    GROUP BY ALL
)
SELECT g.cohort_month,
       g.activity_month,
       {{ date_diff "month" "g.cohort_month" "g.activity_month" }} AS months_since_signup,
       g.cohort_size,
       coalesce(a.active_customers, 0) AS active_customers,
       round({{ safe_divide "coalesce(a.active_customers, 0)" "g.cohort_size" }}, 4) AS retention_rate,
       CAST(coalesce(a.order_count, 0) AS BIGINT) AS order_count,
       CAST(coalesce(a.revenue, 0) AS DECIMAL(18,2)) AS revenue
FROM grid AS g
LEFT JOIN activity AS a USING (cohort_month, activity_month)
ORDER BY g.cohort_month, g.activity_month
