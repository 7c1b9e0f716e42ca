-- dim_date: the calendar row of day D.
-- Grain: one row; date_day = D. day_of_week is ISO: 1 = Monday .. 7 = Sunday.
SELECT {{ partition }} AS date_day,
       EXTRACT(YEAR FROM {{ partition }}) AS year,
       EXTRACT(QUARTER FROM {{ partition }}) AS quarter,
       EXTRACT(MONTH FROM {{ partition }}) AS month,
       EXTRACT(DAY FROM {{ partition }}) AS day_of_month,
       {{ day_of_week partition }} AS day_of_week,
       {{ day_of_week partition }} >= 6 AS is_weekend,
       CAST({{ date_trunc "month" partition }} AS DATE) AS month_start,
       {{ date_add "day" -1 partition }} AS previous_day
FROM (SELECT 1 AS one) AS calendar
