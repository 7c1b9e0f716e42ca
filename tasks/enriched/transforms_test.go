package enriched_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/catalog/catalogtest"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/tasks/enriched"
)

// Each test below commits a few rows per input, runs the shop transform for
// 2026-11-20 through its gate, and compares the staged output with rows worked
// out by hand (the comments show the arithmetic).

func TestCartAttribution(t *testing.T) {
	env := shopEnv(t)
	silver(t, env, "orders", day, `
order_id | customer_id | order_ts            | status | total_amount
O1       | C1          | 2026-11-20 10:00:00 | paid   | 10.00
O2       | C2          | 2026-11-20 12:00:00 | paid   | 10.00
O3       | C3          | 2026-11-20 08:00:00 | paid   | 10.00
O4       | C4          | 2026-11-20 06:00:00 | paid   | 10.00
O5       | C5          | 2026-11-20 14:30:00 | paid   | 10.00
O6       | C6          | 2026-11-20 14:00:00 | paid   | 10.00`)
	silver(t, env, "cart_events", "2026-11-19", `
event_id | session_id | customer_id | event_type | channel   | event_ts
E15      | S4         | C4          | page_view  | affiliate | 2026-11-19 23:00:00
E16      | S3         | C3          | page_view  | email     | 2026-11-19 07:00:00`)
	silver(t, env, "cart_events", day, `
event_id | session_id | customer_id | event_type       | channel        | event_ts
E00      | S9         | C1          | page_view        | direct         | 2026-11-20 08:00:00
E01      | S1         | C1          | page_view        | email          | 2026-11-20 09:00:00
E02      | S1         | C1          | add_to_cart      | social         | 2026-11-20 09:50:00
E04      | S1         | C1          | page_view        | affiliate      | 2026-11-20 10:05:00
E10      | S2         | C2          | product_view     | organic_search | 2026-11-20 11:00:00
E11      | S2         | C2          | checkout_started | email          | 2026-11-20 11:00:00
E20      | S6         | C6          | checkout_started | social         | 2026-11-20 14:00:00
E30      | S7         | NULL        | page_view        | paid_search    | 2026-11-20 14:29:00`)
	// Committed later than D: a backfill of D must not see it.
	silver(t, env, "cart_events", "2026-11-21", `
event_id | session_id | customer_id | event_type | channel | event_ts
E40      | S8         | C5          | page_view  | email   | 2026-11-20 13:00:00`)

	p, _ := buildAndValidate(t, env, "cart_attribution", day)
	// O1: latest touch before 10:00 is E02 (social); E04 comes after the order; the
	//     session S1 touched email and social. E00 is an older session.
	// O2: E10 and E11 at the same instant: the greater event_id, E11 (email), wins.
	// O3: the only touch is 25 hours old: direct, unattributed.
	// O4: a touch 7 hours before, committed in the previous day's partition.
	// O5: no touch as of D (E30 is anonymous, E40 arrived after D): direct.
	// O6: a touch at the very instant of the order counts.
	catalogtest.Equal(t, output(t, env, p, `SELECT order_id, customer_id, attributed, channel, session_id,
  last_touch_event_id, last_touch_ts, minutes_to_order, session_channel_count, ingestion_dt FROM t ORDER BY order_id`), `
order_id | customer_id | attributed | channel        | session_id | last_touch_event_id | last_touch_ts       | minutes_to_order | session_channel_count | ingestion_dt
O1       | C1          | true       | social         | S1         | E02                 | 2026-11-20 09:50:00 | 10.0             | 2                     | 2026-11-20
O2       | C2          | true       | email          | S2         | E11                 | 2026-11-20 11:00:00 | 60.0             | 2                     | 2026-11-20
O3       | C3          | false      | direct         | NULL       | NULL                | NULL                | NULL             | 0                     | 2026-11-20
O4       | C4          | true       | affiliate      | S4         | E15                 | 2026-11-19 23:00:00 | 420.0            | 1                     | 2026-11-20
O5       | C5          | false      | direct         | NULL       | NULL                | NULL                | NULL             | 0                     | 2026-11-20
O6       | C6          | true       | social         | S6         | E20                 | 2026-11-20 14:00:00 | 0.0              | 1                     | 2026-11-20`)
}

func TestCustomerLTV(t *testing.T) {
	env := shopEnv(t)
	dim(t, env, "customers", day, `
customer_id | email    | country | signup_ts
C1          | c1@x.io  | US      | 2026-10-01 09:00:00
C2          | c2@x.io  | DE      | 2026-11-20 08:00:00
C3          | c3@x.io  | FR      | 2026-11-01 08:00:00
C4          | c4@x.io  | ES      | 2026-11-01 08:00:00`)
	silver(t, env, "orders", "2026-11-19", `
order_id | customer_id | order_ts            | status    | total_amount
O1       | C1          | 2026-11-19 10:00:00 | delivered | 100.00
O0       | C2          | 2026-11-19 07:00:00 | placed    | 40.00`)
	// O0's new version on D cancels it; O7's status is unknown.
	silver(t, env, "orders", day, `
order_id | customer_id | order_ts            | status    | total_amount
O2       | C1          | 2026-11-20 09:00:00 | paid      | 50.00
O3       | C1          | 2026-11-20 09:30:00 | cancelled | 30.00
O4       | C2          | 2026-11-20 10:00:00 | placed    | 20.00
O5       | C9          | 2026-11-20 11:00:00 | paid      | 5.00
O0       | C2          | 2026-11-19 07:00:00 | cancelled | 40.00
O7       | C4          | 2026-11-20 12:00:00 | NULL      | 12.00`)
	silver(t, env, "orders", "2026-11-21", `
order_id | customer_id | order_ts            | status | total_amount
O6       | C1          | 2026-11-21 09:00:00 | paid   | 999.00`)
	silver(t, env, "returns", day, `
return_id | order_id | product_id | quantity | refund_amount | reason  | return_ts
R1        | O1       | P1         | 1        | 20.00         | damaged | 2026-11-20 12:00:00`)
	silver(t, env, "returns", "2026-11-21", `
return_id | order_id | product_id | quantity | refund_amount | reason  | return_ts
R2        | O2       | P1         | 1        | 50.00         | damaged | 2026-11-21 12:00:00`)

	// Incremental: the first build (11-19) starts empty; D adds its changes to it.
	p, _ := buildAndValidate(t, env, "customer_ltv", "2026-11-19")
	catalogtest.Equal(t, output(t, env, p, `SELECT customer_id, order_count, lifetime_revenue, last_order_ts FROM t ORDER BY customer_id`), `
customer_id | order_count | lifetime_revenue | last_order_ts
C1          | 1           | 100.00           | 2026-11-19 10:00:00
C2          | 1           | 40.00            | 2026-11-19 07:00:00`)
	commitStaged(t, env, "customer_ltv", "2026-11-19")
	p, _ = buildAndValidate(t, env, "customer_ltv", day)
	// C1: two orders as of D (100 + 50; the cancelled one and the one of 11-21 do not
	//     count) and one refund of 20 (the return of 11-21 is after D): net 130, AOV 75.
	// C2: O0 counted once, now cancelled: its revenue and order_ts leave the figures.
	// C3: a customer without orders. C4: one order of unknown status.
	// C9: orders, but not in the dims snapshot.
	catalogtest.Equal(t, output(t, env, p, `SELECT customer_id, country, order_count, cancelled_order_count, unknown_status_order_count,
  lifetime_revenue, return_count, refund_total, net_revenue, avg_order_value, first_order_ts, last_order_ts FROM t ORDER BY customer_id`), `
customer_id | country | order_count | cancelled_order_count | unknown_status_order_count | lifetime_revenue | return_count | refund_total | net_revenue | avg_order_value | first_order_ts      | last_order_ts
C1          | US      | 2           | 1                     | 0                          | 150.00           | 1            | 20.00        | 130.00      | 75.00           | 2026-11-19 10:00:00 | 2026-11-20 09:00:00
C2          | DE      | 1           | 1                     | 0                          | 20.00            | 0            | 0.00         | 20.00       | 20.00           | 2026-11-20 10:00:00 | 2026-11-20 10:00:00
C3          | FR      | 0           | 0                     | 0                          | 0.00             | 0            | 0.00         | 0.00        | NULL            | NULL                | NULL
C4          | ES      | 0           | 0                     | 1                          | 0.00             | 0            | 0.00         | 0.00        | NULL            | NULL                | NULL
C9          | NULL    | 1           | 0                     | 0                          | 5.00             | 0            | 0.00         | 5.00        | 5.00            | 2026-11-20 11:00:00 | 2026-11-20 11:00:00`)

	// A gap: D+2 cannot build while D+1 is not committed.
	commitStaged(t, env, "customer_ltv", day)
	_, err := enriched.Build(context.Background(), env, enriched.Options{Transform: "customer_ltv", Partition: "2026-11-22"})
	if fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "2026-11-21, which is not committed") {
		t.Errorf("build 2026-11-22 after 2026-11-20: err = %v, want a data error naming 2026-11-21", err)
	}
}

// TestCustomerActivity: a month counts an order by its latest version; a
// cancellation on a later day takes the order out, and an emptied month goes.
func TestCustomerActivity(t *testing.T) {
	env := shopEnv(t)
	silver(t, env, "orders", "2026-10-31", `
order_id | customer_id | order_ts            | status  | total_amount
O1       | C1          | 2026-10-31 22:00:00 | placed  | 10.00
O2       | C1          | 2026-10-31 23:00:00 | paid    | 5.00
O3       | C2          | 2026-10-31 20:00:00 | placed  | 8.00`)
	silver(t, env, "orders", "2026-11-01", `
order_id | customer_id | order_ts            | status    | total_amount
O1       | C1          | 2026-10-31 22:00:00 | cancelled | 10.00
O3       | C2          | 2026-10-31 20:00:00 | cancelled | 8.00
O4       | C2          | 2026-11-01 10:00:00 | NULL      | 3.00
O5       | C1          | 2026-11-01 11:00:00 | shipped   | 7.00`)
	p, _ := buildAndValidate(t, env, "customer_activity", "2026-10-31")
	catalogtest.Equal(t, output(t, env, p, "SELECT customer_id, activity_month, order_count, revenue FROM t ORDER BY ALL"), `
customer_id | activity_month | order_count | revenue
C1          | 2026-10-01     | 2           | 15.00
C2          | 2026-10-01     | 1           | 8.00`)
	commitStaged(t, env, "customer_activity", "2026-10-31")
	p, _ = buildAndValidate(t, env, "customer_activity", "2026-11-01")
	catalogtest.Equal(t, output(t, env, p, "SELECT customer_id, activity_month, order_count, revenue FROM t ORDER BY ALL"), `
customer_id | activity_month | order_count | revenue
C1          | 2026-10-01     | 1           | 5.00
C1          | 2026-11-01     | 1           | 7.00`)
}

func TestProductPerformance(t *testing.T) {
	env := shopEnv(t)
	dim(t, env, "products", "2026-11-19", `
product_id | sku | name  | category | unit_price
P1         | S1  | shirt | apparel  | 10.00
P2         | S2  | lamp  | home     | 30.00`)
	silver(t, env, "orders", day, `
order_id | customer_id | order_ts            | status    | total_amount
O1       | C1          | 2026-11-20 09:00:00 | paid      | 49.00
O2       | C1          | 2026-11-20 10:00:00 | cancelled | 50.00
O3       | C2          | 2026-11-20 11:00:00 | delivered | 10.00`)
	silver(t, env, "order_items", day, `
order_id | line_no | product_id | quantity | unit_price | discount_amount
O1       | 1       | P1         | 2        | 10.00      | 1.00
O1       | 2       | P2         | 1        | 30.00      | NULL
O2       | 1       | P1         | 5        | 10.00      | 0.00
O3       | 1       | P1         | 1        | 10.00      | 0.00`)
	silver(t, env, "returns", day, `
return_id | order_id | product_id | quantity | refund_amount | reason
R1        | O9       | P1         | 1        | 9.50          | damaged
R2        | O8       | P3         | 2        | 40.00         | wrong_size`)
	silver(t, env, "returns", "2026-11-21", `
return_id | order_id | product_id | quantity | refund_amount | reason
R3        | O1       | P2         | 1        | 30.00         | damaged`)

	p, _ := buildAndValidate(t, env, "product_performance", day)
	// P1: O1 (2 x 10 - 1) + O3 (1 x 10) = 29 over 3 units; O2 is cancelled; one unit
	//     back: return rate 1/3. P3: returned, not sold, not in the dims snapshot.
	catalogtest.Equal(t, output(t, env, p, `SELECT product_id, product_name, category, order_count, units_sold, revenue,
  discount_total, return_count, units_returned, refund_total, return_rate FROM t ORDER BY product_id`), `
product_id | product_name | category | order_count | units_sold | revenue | discount_total | return_count | units_returned | refund_total | return_rate
P1         | shirt        | apparel  | 2           | 3          | 29.00   | 1.00           | 1            | 1              | 9.50         | 0.3333
P2         | lamp         | home     | 1           | 1          | 30.00   | 0.00           | 0            | 0              | 0.00         | 0.0
P3         | NULL         | NULL     | 0           | 0          | 0.00    | 0.00           | 1            | 2              | 40.00        | NULL`)
}

func TestDailyMetrics(t *testing.T) {
	env := shopEnv(t)
	dim(t, env, "customers", day, `
customer_id | email   | signup_ts
C1          | c1@x.io | 2026-10-01 09:00:00
C2          | c2@x.io | 2026-11-20 10:00:00
C3          | c3@x.io | 2026-11-20 11:00:00`)
	silver(t, env, "orders", "2026-11-19", `
order_id | customer_id | order_ts            | status | total_amount
O0       | C1          | 2026-11-19 09:00:00 | paid   | 999.00`)
	silver(t, env, "orders", day, `
order_id | customer_id | order_ts            | status    | total_amount
O1       | C1          | 2026-11-20 09:00:00 | paid      | 100.00
O2       | C1          | 2026-11-20 10:00:00 | delivered | 50.00
O3       | C2          | 2026-11-20 11:00:00 | placed    | 30.00
O4       | C3          | 2026-11-20 12:00:00 | cancelled | 20.00
O5       | C3          | 2026-11-20 13:00:00 | NULL      | 7.00
O0       | C1          | 2026-11-19 09:00:00 | cancelled | 999.00`)
	silver(t, env, "order_items", "2026-11-19", `
order_id | line_no | product_id | quantity | unit_price
O0       | 1       | P1         | 9        | 111.00`)
	silver(t, env, "order_items", day, `
order_id | line_no | product_id | quantity | unit_price
O1       | 1       | P1         | 2        | 50.00
O2       | 1       | P1         | 1        | 20.00
O2       | 2       | P2         | 3        | 10.00
O3       | 1       | P2         | 1        | 30.00
O4       | 1       | P2         | 4        | 5.00`)
	silver(t, env, "returns", day, `
return_id | order_id | product_id | quantity | refund_amount
R1        | O0       | P1         | 1        | 15.00
R2        | O0       | P1         | 1        | NULL`)

	p, _ := buildAndValidate(t, env, "daily_metrics", day)
	// Three orders count (O4 is cancelled, O5's status unknown; O0 is a later version
	// of an order of 11-19, not an order of D): 100 + 50 + 30 = 180, AOV 60, two buying
	// customers, 2 + 1 + 3 + 1 = 7 items; C2 and C3 signed up on D; refunds 15.
	catalogtest.Equal(t, output(t, env, p, "SELECT * FROM t"), `
metric_date | order_count | cancelled_order_count | unknown_status_order_count | customer_count | new_customer_count | revenue | avg_order_value | items_sold | return_count | refund_total | net_revenue | ingestion_dt
2026-11-20  | 3           | 1                     | 1                          | 2              | 2                  | 180.00  | 60.00           | 7          | 2            | 15.00        | 165.00      | 2026-11-20`)
}

func TestDailyMetricsOnADayWithoutOrders(t *testing.T) {
	env := shopEnv(t)
	silver(t, env, "orders", "2026-11-19", `
order_id | customer_id | order_ts            | status | total_amount
O0       | C1          | 2026-11-19 09:00:00 | paid   | 10.00`)
	p, _ := buildAndValidate(t, env, "daily_metrics", day)
	catalogtest.Equal(t, output(t, env, p, "SELECT order_count, revenue, avg_order_value, items_sold, refund_total, net_revenue FROM t"), `
order_count | revenue | avg_order_value | items_sold | refund_total | net_revenue
0           | 0.00    | NULL            | 0          | 0.00         | 0.00`)
}

func TestCustomerRFM(t *testing.T) {
	env := shopEnv(t)
	// The lifetime figures of D (customer_ltv computes them): C6 only cancelled.
	enrichedRows(t, env, "customer_ltv", day, `
customer_id | order_count | lifetime_revenue | last_order_ts
C1          | 3           | 200.00           | 2026-11-20 10:00:00
C2          | 1           | 500.00           | 2026-11-19 10:00:00
C3          | 2           | 60.00            | 2026-11-16 10:00:00
C4          | 1           | 10.00            | 2026-11-01 11:00:00
C5          | 4           | 80.00            | 2026-10-24 10:00:00
C6          | 0           | 0.00             | NULL`)
	enrichedRows(t, env, "customer_ltv", "2026-11-19", `
customer_id | order_count | lifetime_revenue | last_order_ts
C7          | 1           | 1.00             | 2026-11-19 10:00:00`)

	p, _ := buildAndValidate(t, env, "customer_rfm", day)
	// recency (days to D), frequency, monetary:   C1 0, 3, 200   C2 1, 1, 500
	// C3 4, 2, 60   C4 19, 1, 10   C5 27, 4, 80.  C6 only cancelled, C7 of another day.
	// Five customers, five quintiles: r by recency (C5 oldest = 1 ... C1 = 5),
	// f by frequency (C2 and C4 tie at 1 and share a score: percent_rank .75 -> 2),
	// m by monetary (C4 = 1 ... C2 = 5).
	catalogtest.Equal(t, output(t, env, p, `SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
  rfm_cell, segment FROM t ORDER BY customer_id`), `
customer_id | recency_days | frequency | monetary | r_score | f_score | m_score | rfm_cell | segment
C1          | 0            | 3         | 200.00   | 5       | 4       | 4       | 544      | champion
C2          | 1            | 1         | 500.00   | 4       | 2       | 5       | 425      | promising
C3          | 4            | 2         | 60.00    | 3       | 3       | 2       | 332      | loyal
C4          | 19           | 1         | 10.00    | 2       | 2       | 1       | 221      | hibernating
C5          | 27           | 4         | 80.00    | 1       | 5       | 3       | 153      | at_risk`)
}

func TestCohortRetention(t *testing.T) {
	env := shopEnv(t)
	dim(t, env, "customers", day, `
customer_id | email   | signup_ts
C1          | c1@x.io | 2026-09-15 09:00:00
C2          | c2@x.io | 2026-09-30 23:00:00
C3          | c3@x.io | 2026-10-05 09:00:00
C4          | c4@x.io | 2026-11-02 09:00:00
C5          | c5@x.io | NULL
C6          | c6@x.io | 2026-11-25 09:00:00`)
	// The months of each customer as of D (customer_activity computes them): C2's
	// cancelled October order and C1's order after D are not there.
	enrichedRows(t, env, "customer_activity", day, `
customer_id | activity_month | order_count | revenue
C1          | 2026-09-01     | 1           | 10.00
C2          | 2026-10-01     | 1           | 15.00
C3          | 2026-10-01     | 2           | 10.00
C1          | 2026-11-01     | 1           | 20.00
C5          | 2026-11-01     | 1           | 8.00
C3          | 2026-11-01     | 1           | 7.00`)

	p, _ := buildAndValidate(t, env, "cohort_retention", day)
	// Cohorts: September {C1, C2}, October {C3}, November {C4}; C5 has no signup, C6
	// signed up after D. Each cohort gets a row per month up to November, zeros too.
	// September: C1 in Sep and Nov, C2 in Oct (its cancelled order does not count).
	catalogtest.Equal(t, output(t, env, p, `SELECT cohort_month, activity_month, months_since_signup, cohort_size,
  active_customers, retention_rate, order_count, revenue FROM t ORDER BY cohort_month, activity_month`), `
cohort_month | activity_month | months_since_signup | cohort_size | active_customers | retention_rate | order_count | revenue
2026-09-01   | 2026-09-01     | 0                   | 2           | 1                | 0.5            | 1           | 10.00
2026-09-01   | 2026-10-01     | 1                   | 2           | 1                | 0.5            | 1           | 15.00
2026-09-01   | 2026-11-01     | 2                   | 2           | 1                | 0.5            | 1           | 20.00
2026-10-01   | 2026-10-01     | 0                   | 1           | 1                | 1.0            | 2           | 10.00
2026-10-01   | 2026-11-01     | 1                   | 1           | 1                | 1.0            | 1           | 7.00
2026-11-01   | 2026-11-01     | 0                   | 1           | 0                | 0.0            | 0           | 0.00`)
}

func TestFunnelConversion(t *testing.T) {
	env := shopEnv(t)
	silver(t, env, "orders", day, `
order_id | customer_id | order_ts            | status | total_amount
O1       | C1          | 2026-11-20 09:20:00 | paid   | 10.00
O2       | C3          | 2026-11-20 15:00:00 | paid   | 10.00
O3       | C2          | 2026-11-20 12:10:00 | paid   | 10.00`)
	silver(t, env, "cart_events", "2026-11-19", `
event_id | session_id | customer_id | event_type | channel | event_ts
E00      | S0         | NULL        | page_view  | email   | 2026-11-19 10:00:00`)
	silver(t, env, "cart_events", day, `
event_id | session_id | customer_id | product_id | event_type       | channel        | event_ts
E01      | S1         | C1          | NULL       | page_view        | email          | 2026-11-20 09:00:00
E02      | S1         | C1          | P1         | product_view     | email          | 2026-11-20 09:05:00
E03      | S1         | C1          | P1         | add_to_cart      | social         | 2026-11-20 09:10:00
E04      | S1         | C1          | NULL       | checkout_started | social         | 2026-11-20 09:15:00
E05      | S2         | NULL        | NULL       | page_view        | email          | 2026-11-20 10:00:00
E06      | S2         | NULL        | P2         | product_view     | email          | 2026-11-20 10:01:00
E07      | S3         | NULL        | NULL       | page_view        | social         | 2026-11-20 11:00:00
E08      | S4         | C2          | P3         | product_view     | organic_search | 2026-11-20 12:00:00
E09      | S4         | C2          | P3         | add_to_cart      | organic_search | 2026-11-20 12:05:00
E10      | S5         | NULL        | NULL       | page_view        | NULL           | 2026-11-20 13:00:00`)

	// funnel_conversion reads enriched.cart_attribution: build, gate and commit it first.
	buildAndValidate(t, env, "cart_attribution", day)
	commitStaged(t, env, "cart_attribution", day)

	p, _ := buildAndValidate(t, env, "funnel_conversion", day)
	// Sessions by last-touch channel: S1 social (viewed, added, checked out), S2 email
	// (viewed), S3 social, S4 organic_search (viewed, added), S5 without a channel:
	// direct. Orders by attribution: O1 social (E04), O3 organic_search (E09), O2 has
	// no touch: direct.
	catalogtest.Equal(t, output(t, env, p, `SELECT channel, sessions, product_view_sessions, add_to_cart_sessions,
  checkout_sessions, orders, view_rate, cart_rate, checkout_rate, order_rate FROM t ORDER BY channel`), `
channel        | sessions | product_view_sessions | add_to_cart_sessions | checkout_sessions | orders | view_rate | cart_rate | checkout_rate | order_rate
direct         | 1        | 0                     | 0                    | 0                 | 1      | 0.0       | 0.0       | 0.0           | 1.0
email          | 1        | 1                     | 0                    | 0                 | 0      | 1.0       | 0.0       | 0.0           | 0.0
organic_search | 1        | 1                     | 1                    | 0                 | 1      | 1.0       | 1.0       | 0.0           | 1.0
social         | 2        | 1                     | 1                    | 1                 | 1      | 0.5       | 0.5       | 0.5           | 0.5`)
}

func TestPaymentReconciliation(t *testing.T) {
	env := shopEnv(t)
	silver(t, env, "orders", "2026-11-19", `
order_id | customer_id | order_ts            | status | total_amount
O0       | C1          | 2026-11-19 09:00:00 | paid   | 10.00`)
	silver(t, env, "orders", day, `
order_id | customer_id | order_ts            | status    | total_amount
O1       | C1          | 2026-11-20 09:00:00 | paid      | 100.00
O2       | C1          | 2026-11-20 09:10:00 | delivered | 80.00
O3       | C2          | 2026-11-20 09:20:00 | placed    | 40.00
O4       | C2          | 2026-11-20 09:30:00 | cancelled | 60.00
O5       | C3          | 2026-11-20 09:40:00 | shipped   | 50.00
O6       | C3          | 2026-11-20 09:50:00 | paid      | 25.00
O7       | C4          | 2026-11-20 10:00:00 | paid      | 10.00
O8       | C4          | 2026-11-20 10:10:00 | paid      | 10.00`)
	silver(t, env, "payments", "2026-11-19", `
payment_id | order_id | amount | status
P0         | O0       | 10.00  | captured`)
	silver(t, env, "payments", day, `
payment_id | order_id | amount | status
P1         | O1       | 100.00 | captured
P2         | O2       | 80.00  | failed
P3         | O2       | 80.00  | captured
P4         | O3       | 40.00  | authorized
P5         | O4       | 60.00  | refunded
P6         | O5       | 30.00  | captured
P7         | O6       | 25.00  | captured
P8         | O6       | 5.00   | captured`)
	silver(t, env, "payments", "2026-11-21", `
payment_id | order_id | amount | status
P9         | O8       | 10.00  | captured`)
	silver(t, env, "returns", day, `
return_id | order_id | product_id | quantity | refund_amount
R1        | O2       | P1         | 1        | 20.00`)

	p, _ := buildAndValidate(t, env, "payment_reconciliation", day)
	// O1 paid in full. O2: a failed attempt, then captured; its return refund is shown
	// apart. O3 only authorized: pending. O4 cancelled and refunded: nothing expected,
	// nothing kept. O5 30 of 50; O6 30 of 25; O7 nothing; O8's capture came after D.
	catalogtest.Equal(t, output(t, env, p, `SELECT order_id, order_status, expected_amount, payment_count, authorized_amount,
  captured_amount, refunded_amount, failed_attempts, return_refund_amount, balance, reconciliation_status FROM t ORDER BY order_id`), `
order_id | order_status | expected_amount | payment_count | authorized_amount | captured_amount | refunded_amount | failed_attempts | return_refund_amount | balance | reconciliation_status
O1       | paid         | 100.00          | 1             | 0.00              | 100.00          | 0.00            | 0               | 0.00                 | 0.00    | matched
O2       | delivered    | 80.00           | 2             | 0.00              | 80.00           | 0.00            | 1               | 20.00                | 0.00    | matched
O3       | placed       | 40.00           | 1             | 40.00             | 0.00            | 0.00            | 0               | 0.00                 | -40.00  | pending
O4       | cancelled    | 0.00            | 1             | 0.00              | 0.00            | 60.00           | 0               | 0.00                 | 0.00    | matched
O5       | shipped      | 50.00           | 1             | 0.00              | 30.00           | 0.00            | 0               | 0.00                 | -20.00  | underpaid
O6       | paid         | 25.00           | 2             | 0.00              | 30.00           | 0.00            | 0               | 0.00                 | 5.00    | overpaid
O7       | paid         | 10.00           | 0             | 0.00              | 0.00            | 0.00            | 0               | 0.00                 | -10.00  | underpaid
O8       | paid         | 10.00           | 0             | 0.00              | 0.00            | 0.00            | 0               | 0.00                 | -10.00  | underpaid`)
}

func TestFulfillmentSLA(t *testing.T) {
	env := shopEnv(t)
	orders := []struct{ d, rows string }{
		{"2026-11-15", "O9 | C1 | 2026-11-15 10:00:00 | shipped | 10.00"},
		{"2026-11-16", "O7 | C1 | 2026-11-16 08:00:00 | shipped | 10.00"},
		{"2026-11-18", "O0 | C1 | 2026-11-18 12:00:00 | shipped | 10.00"},
		{day, "O1 | C1 | 2026-11-20 08:00:00 | delivered | 10.00\nO2 | C2 | 2026-11-20 09:00:00 | paid | 10.00\nO3 | C3 | 2026-11-20 10:00:00 | paid | 10.00"},
	}
	for _, o := range orders {
		silver(t, env, "orders", o.d, "order_id | customer_id | order_ts | status | total_amount\n"+o.rows)
	}
	silver(t, env, "shipments", "2026-11-16", `
shipment_id | order_id | carrier | status     | shipped_ts          | delivered_ts
SH9         | O9       | usps    | in_transit | 2026-11-16 10:00:00 | NULL`)
	silver(t, env, "shipments", day, `
shipment_id | order_id | carrier | status        | shipped_ts          | delivered_ts
SH0         | O0       | fedex   | in_transit    | 2026-11-20 13:00:00 | NULL
SH1         | O1       | ups     | delivered     | 2026-11-20 12:00:00 | 2026-11-20 20:30:00
SH2         | O2       | dhl     | label_created | NULL                | NULL
SH3         | O3       | usps    | label_created | NULL                | NULL
SH7         | O7       | ups     | in_transit    | 2026-11-20 07:00:00 | NULL`)
	silver(t, env, "shipments", "2026-11-21", `
shipment_id | order_id | carrier | status    | shipped_ts          | delivered_ts
SH3         | O3       | usps    | delivered | 2026-11-21 08:00:00 | 2026-11-21 18:00:00`)

	p, _ := buildAndValidate(t, env, "fulfillment_sla", day)
	// SH0: an older order shipped on D, 49 h after it: ship SLA missed; delivery can
	//      still make 72 h (deadline 11-21 12:00, after the end of D): NULL.
	// SH1: 4 h to ship, 8.5 h to deliver, 12.5 h in all: both met.
	// SH2, SH3: not shipped yet, deadlines after D: NULL (SH3's row of 11-21 is after D).
	// SH7: 95 h to ship; the 72 h delivery deadline (11-19 08:00) passed: both missed.
	// SH9: neither an order of D nor shipped on D.
	catalogtest.Equal(t, output(t, env, p, `SELECT shipment_id, order_id, shipment_status, order_ts, shipped_ts, delivered_ts,
  hours_to_ship, hours_to_deliver, hours_order_to_delivery, ship_sla_met, delivery_sla_met FROM t ORDER BY shipment_id`), `
shipment_id | order_id | shipment_status | order_ts            | shipped_ts          | delivered_ts        | hours_to_ship | hours_to_deliver | hours_order_to_delivery | ship_sla_met | delivery_sla_met
SH0         | O0       | in_transit      | 2026-11-18 12:00:00 | 2026-11-20 13:00:00 | NULL                | 49.0          | NULL             | NULL                    | false        | NULL
SH1         | O1       | delivered       | 2026-11-20 08:00:00 | 2026-11-20 12:00:00 | 2026-11-20 20:30:00 | 4.0           | 8.5              | 12.5                    | true         | true
SH2         | O2       | label_created   | 2026-11-20 09:00:00 | NULL                | NULL                | NULL          | NULL             | NULL                    | NULL         | NULL
SH3         | O3       | label_created   | 2026-11-20 10:00:00 | NULL                | NULL                | NULL          | NULL             | NULL                    | NULL         | NULL
SH7         | O7       | in_transit      | 2026-11-16 08:00:00 | 2026-11-20 07:00:00 | NULL                | 95.0          | NULL             | NULL                    | false        | false`)
}

func TestReturnsAnalysis(t *testing.T) {
	env := shopEnv(t)
	dim(t, env, "products", day, `
product_id | sku | category | unit_price
P1         | S1  | apparel  | 10.00
P2         | S2  | apparel  | 15.00
P3         | S3  | home     | 50.00`)
	sales := []struct{ d, orders, items string }{
		{"2026-10-21", "O11 | delivered", "O11 | 1 | P1 | 100"}, // 30 days before D: outside the window
		{"2026-11-01", "O10 | delivered", "O10 | 1 | P1 | 10"},
		{day, "O12 | paid\nO13 | cancelled", "O12 | 1 | P3 | 4\nO13 | 1 | P2 | 50"},
		{"2026-11-21", "O14 | paid", "O14 | 1 | P1 | 1000"},
	}
	for _, s := range sales {
		silver(t, env, "orders", s.d, "order_id | status\n"+s.orders)
		silver(t, env, "order_items", s.d, "order_id | line_no | product_id | quantity\n"+s.items)
	}
	silver(t, env, "returns", "2026-11-19", `
return_id | order_id | product_id | quantity | refund_amount | reason
R0        | O10      | P1         | 1        | 10.00         | damaged`)
	silver(t, env, "returns", day, `
return_id | order_id | product_id | quantity | refund_amount | reason
R1        | O1       | P1         | 1        | 10.00         | damaged
R2        | O2       | P2         | 2        | 30.00         | damaged
R3        | O2       | P3         | 1        | 50.00         | wrong_size
R4        | O3       | P4         | 1        | 5.00          | NULL`)

	p, _ := buildAndValidate(t, env, "returns_analysis", day)
	// damaged/apparel: R1 + R2, 3 units, 40.00 back; 10 apparel units sold in the 30
	// days up to D (O10; O11 is too old, O13 cancelled, O14 after D): rate 0.3.
	// wrong_size/home: 1 of the 4 home units sold. R4: no reason, P4 not in the dim.
	catalogtest.Equal(t, output(t, env, p, `SELECT reason, category, return_count, orders_affected, units_returned,
  refund_total, avg_refund, units_sold_30d, return_rate FROM t ORDER BY reason, category`), `
reason     | category | return_count | orders_affected | units_returned | refund_total | avg_refund | units_sold_30d | return_rate
damaged    | apparel  | 2            | 2               | 3              | 40.00        | 20.00      | 10             | 0.3
unknown    | unknown  | 1            | 1               | 1              | 5.00         | 5.00       | 0              | NULL
wrong_size | home     | 1            | 1               | 1              | 50.00        | 50.00      | 4              | 0.25`)
}
