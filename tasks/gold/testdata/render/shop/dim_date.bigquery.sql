-- dim_date: the calendar row of day D.
-- Grain: one row; date_day = D. day_of_week is ISO: 1 = Monday .. 7 = Sunday.
SELECT DATE '2026-11-20' AS date_day,
       EXTRACT(YEAR FROM DATE '2026-11-20') AS year,
       EXTRACT(QUARTER FROM DATE '2026-11-20') AS quarter,
       EXTRACT(MONTH FROM DATE '2026-11-20') AS month,
       EXTRACT(DAY FROM DATE '2026-11-20') AS day_of_month,
       (MOD(EXTRACT(DAYOFWEEK FROM DATE '2026-11-20') + 5, 7) + 1) AS day_of_week,
       (MOD(EXTRACT(DAYOFWEEK FROM DATE '2026-11-20') + 5, 7) + 1) >= 6 AS is_weekend,
       CAST(DATE_TRUNC(DATE '2026-11-20', MONTH) AS DATE) AS month_start,
       DATE_ADD(CAST(DATE '2026-11-20' AS DATE), INTERVAL -1 DAY) AS previous_day
FROM (SELECT 1 AS one) AS calendar
