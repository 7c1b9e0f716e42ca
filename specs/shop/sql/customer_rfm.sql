-- customer_rfm: recency, frequency and monetary scores of every buying customer as of day D.
-- Grain: one row per customer with at least one order up to D that is neither
-- cancelled nor of unknown status, each order by its latest version up to D.
--
-- Derived from enriched.customer_ltv of D, which holds the lifetime figures
-- incrementally, so no history is read: recency_days = days from the customer's last
-- order (last_order_ts) to D; frequency = order_count; monetary = lifetime_revenue.
-- Each score is a quintile of the rank over all scored customers, best first:
-- 5 - floor(5 * percent_rank()), so 5 is the most recent, most frequent,
-- highest-spending fifth and 1 the least. Equal values get equal scores (a day when
-- everyone ordered gives everyone recency 5), so scores are deterministic without a
-- tie-break. rfm_cell concatenates the three scores; segment names the usual cells.
WITH stats AS (
    SELECT customer_id,
           last_order_ts,
           order_count AS frequency,
           lifetime_revenue AS monetary
    FROM enriched.customer_ltv
    WHERE ingestion_dt = {{ partition }}
      AND order_count > 0
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
