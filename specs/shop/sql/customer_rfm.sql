-- customer_rfm: recency, frequency and monetary scores of every buying customer as of day D.
-- Grain: one row per customer with at least one non-cancelled order up to D (partitions <= D).
--
-- recency_days = days from the customer's last order to D; frequency = orders;
-- monetary = revenue. Each score is a quintile of the rank over all scored customers,
-- best first: 5 - floor(5 * percent_rank()), so 5 is the most recent, most frequent,
-- highest-spending fifth and 1 the least. Equal values get equal scores (a day when
-- everyone ordered gives everyone recency 5), so scores are deterministic without a
-- tie-break. rfm_cell concatenates the three scores; segment names the usual cells.
WITH stats AS (
    SELECT customer_id,
           max(order_ts) AS last_order_ts,
           count(*) AS frequency,
           sum(total_amount) AS monetary
    FROM silver.orders
    WHERE ingestion_dt <= {{ partition }}
      AND status <> 'cancelled'
    GROUP BY customer_id
),
recency AS (
    SELECT *, {{ date_diff "day" "CAST(last_order_ts AS DATE)" partition }} AS recency_days
    FROM stats
),
scored AS (
    SELECT *,
           5 - least(4, CAST(floor(5 * percent_rank() OVER (ORDER BY recency_days)) AS INTEGER)) AS r_score,
           5 - least(4, CAST(floor(5 * percent_rank() OVER (ORDER BY frequency DESC)) AS INTEGER)) AS f_score,
           5 - least(4, CAST(floor(5 * percent_rank() OVER (ORDER BY monetary DESC)) AS INTEGER)) AS m_score
    FROM recency
)
SELECT customer_id,
       last_order_ts,
       recency_days,
       frequency,
       monetary,
       r_score,
       f_score,
       m_score,
       concat(r_score, f_score, m_score) AS rfm_cell,
       CASE
           WHEN r_score >= 4 AND f_score >= 4 THEN 'champion'
           WHEN r_score >= 3 AND f_score >= 3 THEN 'loyal'
           WHEN r_score >= 4 THEN 'promising'
           WHEN r_score <= 2 AND f_score >= 3 THEN 'at_risk'
           ELSE 'hibernating'
       END AS segment
FROM scored
ORDER BY customer_id
