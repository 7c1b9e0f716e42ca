-- dim_date: the calendar row of day D.
-- Grain: one row; date_day = D. day_of_week is ISO: 1 = Monday .. 7 = Sunday.
SELECT DATE '2026-11-20' AS date_day,
       EXTRACT(YEAR FROM DATE '2026-11-20') AS year,
       EXTRACT(QUARTER FROM DATE '2026-11-20') AS quarter,
       EXTRACT(MONTH FROM DATE '2026-11-20') AS month,
       EXTRACT(DAY FROM DATE '2026-11-20') AS day_of_month,
       isodow(DATE '2026-11-20') AS day_of_week,
       isodow(DATE '2026-11-20') >= 6 AS is_weekend,
       CAST(date_trunc('month', DATE '2026-11-20') AS DATE) AS month_start,
       CAST(CAST(DATE '2026-11-20' AS DATE) + INTERVAL (-1) DAY AS DATE) AS previous_day
FROM (SELECT 1 AS one) AS calendar
