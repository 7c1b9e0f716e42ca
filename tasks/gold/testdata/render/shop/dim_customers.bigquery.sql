-- dim_customers: customers as a type-2 slowly changing dimension, as of day D.
-- Grain: one row per customer version; as_of_date = D (the whole history as D sees it).
-- Built from every dims.customers snapshot on or before D: consecutive snapshots with
-- the same email, first_name, last_name and country form one version. valid_from is
-- the first snapshot of the version, valid_to the day before the next version began
-- (9999-12-31 for the current one); is_current marks the customer's latest version.
-- Snapshots read are fixed by D, so backfills in any order give the same partition.
WITH snapshots AS (
    SELECT customer_id, email, first_name, last_name, country, signup_ts, snapshot_dt,
           CASE WHEN LAG(snapshot_dt) OVER w IS NULL
                  OR LAG(email) OVER w IS DISTINCT FROM email
                  OR LAG(first_name) OVER w IS DISTINCT FROM first_name
                  OR LAG(last_name) OVER w IS DISTINCT FROM last_name
                  OR LAG(country) OVER w IS DISTINCT FROM country
                THEN 1 ELSE 0 END AS starts_version
    FROM (SELECT * FROM `proj.dims.customers` WHERE snapshot_dt <= DATE '2026-11-20') AS customers_history
    WINDOW w AS (PARTITION BY customer_id ORDER BY snapshot_dt)
),
numbered AS (
    SELECT *,
           SUM(starts_version) OVER (PARTITION BY customer_id ORDER BY snapshot_dt
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS version
    FROM snapshots
),
versions AS (
    SELECT customer_id, version,
           MIN(email) AS email,
           MIN(first_name) AS first_name,
           MIN(last_name) AS last_name,
           MIN(country) AS country,
           MIN(signup_ts) AS signup_ts,
           MIN(snapshot_dt) AS valid_from
    FROM numbered
    GROUP BY customer_id, version
)
SELECT DATE '2026-11-20' AS as_of_date,
       customer_id,
       version,
       email,
       first_name,
       last_name,
       country,
       signup_ts,
       valid_from,
       COALESCE(DATE_ADD(CAST(LEAD(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from) AS DATE), INTERVAL -1 DAY), DATE '9999-12-31') AS valid_to,
       LEAD(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from) IS NULL AS is_current
FROM versions
