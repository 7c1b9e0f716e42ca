package gold_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/gold"
)

// Days of the shop fixture.
const (
	d0    = "2026-11-18"
	d1    = "2026-11-19"
	d     = "2026-11-20"
	dNext = "2026-11-21" // a snapshot after D that builds of D must not see
)

func shopSpec(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load(os.DirFS("../../specs/shop"), "specs/shop")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rowsSQL is SELECT *, DATE 'day' AS key FROM (VALUES ...) AS t(cols).
func rowsSQL(key, day, cols string, rows ...string) string {
	return fmt.Sprintf("SELECT *, DATE '%s' AS %s FROM (VALUES %s) AS t(%s)", day, key, strings.Join(rows, ", "), cols)
}

// fixture commits a small hand-made shop to the lake: three orders of D, their
// items, the enriched rows the real transforms would give for them, and
// customer and product snapshots on D0, D1, D and D+1.
func fixture(t *testing.T, env *tasks.Env) {
	t.Helper()
	const k = "ingestion_dt"
	commit(t, env, "silver", "orders", k, d, rowsSQL(k, d, "order_id, customer_id, order_ts, status, total_amount, currency",
		"('o1', 'c1', TIMESTAMP '2026-11-20 09:00:00', 'paid', CAST(100.00 AS DECIMAL(12,2)), 'USD')",
		"('o2', 'c2', TIMESTAMP '2026-11-20 10:30:00', 'cancelled', 50.00, 'EUR')",
		"('o3', 'c1', TIMESTAMP '2026-11-20 18:00:00', 'placed', 30.00, 'USD')"))
	// An order of D-1, so rebuilding D can be seen to leave D-1 alone.
	commit(t, env, "silver", "orders", k, d1, rowsSQL(k, d1, "order_id, customer_id, order_ts, status, total_amount, currency",
		"('o0', 'c2', TIMESTAMP '2026-11-19 12:00:00', 'paid', CAST(20.00 AS DECIMAL(12,2)), 'EUR')"))
	commit(t, env, "silver", "order_items", k, d, rowsSQL(k, d, "order_id, line_no, product_id, quantity, unit_price, discount_amount",
		"('o1', 1, 'p1', 2, CAST(40.00 AS DECIMAL(10,2)), CAST(5.00 AS DECIMAL(10,2)))",
		"('o1', 2, 'p2', 1, 25.00, NULL)",
		"('o2', 1, 'p1', 1, 50.00, 0.00)",
		"('o3', 1, 'p2', 1, 30.00, NULL)"))
	commit(t, env, "silver", "order_items", k, d1, rowsSQL(k, d1, "order_id, line_no, product_id, quantity, unit_price, discount_amount",
		"('o0', 1, 'p2', 1, CAST(20.00 AS DECIMAL(10,2)), CAST(NULL AS DECIMAL(10,2)))"))
	for _, day := range []string{d1, d} {
		rows := []string{"('o0', 'c2', TIMESTAMP '2026-11-19 12:00:00', TRUE, 'social')"}
		if day == d {
			rows = []string{"('o1', 'c1', TIMESTAMP '2026-11-20 09:00:00', TRUE, 'email')",
				"('o3', 'c1', TIMESTAMP '2026-11-20 18:00:00', FALSE, 'direct')"} // o2: no row, defaults apply
		}
		commit(t, env, "enriched", "cart_attribution", k, day, rowsSQL(k, day, "order_id, customer_id, order_ts, attributed, channel", rows...))
	}
	recon := "order_id, customer_id, order_status, currency, order_total, expected_amount, payment_count, authorized_amount, " +
		"captured_amount, refunded_amount, failed_attempts, return_refund_amount, balance, reconciliation_status"
	commit(t, env, "enriched", "payment_reconciliation", k, d1, rowsSQL(k, d1, recon,
		"('o0', 'c2', 'paid', 'EUR', CAST(20 AS DECIMAL(12,2)), CAST(20 AS DECIMAL(12,2)), 1, CAST(0 AS DECIMAL(12,2)), CAST(20 AS DECIMAL(12,2)), CAST(0 AS DECIMAL(12,2)), 0, CAST(0 AS DECIMAL(12,2)), CAST(0 AS DECIMAL(12,2)), 'matched')"))
	commit(t, env, "enriched", "payment_reconciliation", k, d, rowsSQL(k, d, recon,
		"('o1', 'c1', 'paid', 'USD', CAST(100 AS DECIMAL(12,2)), CAST(100 AS DECIMAL(12,2)), 1, CAST(0 AS DECIMAL(12,2)), CAST(100 AS DECIMAL(12,2)), CAST(0 AS DECIMAL(12,2)), 0, CAST(10 AS DECIMAL(12,2)), CAST(0 AS DECIMAL(12,2)), 'matched')",
		"('o2', 'c2', 'cancelled', 'EUR', 50, 0, 0, 0, 0, 0, 0, 0, 0, 'matched')",
		"('o3', 'c1', 'placed', 'USD', 30, 30, 1, 30, 0, 0, 0, 0, -30, 'pending')"))
	commit(t, env, "enriched", "customer_ltv", k, d, rowsSQL(k, d,
		"customer_id, country, signup_ts, order_count, cancelled_order_count, lifetime_revenue, return_count, refund_total, net_revenue, avg_order_value, first_order_ts, last_order_ts",
		"('c1', 'FR', TIMESTAMP '2026-01-05 08:00:00', 2, 0, CAST(130 AS DECIMAL(38,2)), 1, CAST(10 AS DECIMAL(38,2)), CAST(120 AS DECIMAL(38,2)), CAST(65 AS DECIMAL(38,2)), TIMESTAMP '2026-11-20 09:00:00', TIMESTAMP '2026-11-20 18:00:00')",
		"('c2', 'US', TIMESTAMP '2026-11-19 07:00:00', 1, 1, 20, 0, 0, 20, 20, TIMESTAMP '2026-11-19 12:00:00', TIMESTAMP '2026-11-19 12:00:00')"))
	commit(t, env, "enriched", "customer_rfm", k, d, rowsSQL(k, d,
		"customer_id, last_order_ts, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_cell, segment",
		"('c1', TIMESTAMP '2026-11-20 18:00:00', 0, 2, CAST(130 AS DECIMAL(38,2)), 5, 5, 5, '555', 'champion')"))
	commit(t, env, "enriched", "product_performance", k, d, rowsSQL(k, d,
		"product_id, product_name, category, order_count, units_sold, revenue, discount_total, return_count, units_returned, refund_total, return_rate",
		"('p1', 'Tee', 'apparel', 1, 2, CAST(75 AS DECIMAL(38,2)), CAST(5 AS DECIMAL(38,2)), 1, 1, CAST(10 AS DECIMAL(38,2)), 0.5)",
		"('p2', 'Mug', 'home', 2, 2, 55, 0, 0, 0, 0, 0.0)"))
	commit(t, env, "enriched", "daily_metrics", k, d, rowsSQL(k, d,
		"metric_date, order_count, cancelled_order_count, customer_count, new_customer_count, revenue, avg_order_value, items_sold, return_count, refund_total, net_revenue",
		"(DATE '2026-11-20', 2, 1, 1, 1, CAST(130 AS DECIMAL(38,2)), CAST(65 AS DECIMAL(38,2)), 3, 1, CAST(10 AS DECIMAL(38,2)), CAST(120 AS DECIMAL(38,2)))"))
	commit(t, env, "enriched", "funnel_conversion", k, d, rowsSQL(k, d,
		"channel, sessions, product_view_sessions, add_to_cart_sessions, checkout_sessions, orders, view_rate, cart_rate, checkout_rate, order_rate",
		"('email', 4, 3, 2, 1, 3, 0.75, 0.5, 0.25, 0.75)",
		"('direct', 2, 1, 0, 0, 1, 0.5, 0.0, 0.0, 0.5)"))
	commit(t, env, "enriched", "fulfillment_sla", k, d, rowsSQL(k, d,
		"shipment_id, order_id, carrier, shipment_status, order_ts, shipped_ts, delivered_ts, hours_to_ship, hours_to_deliver, hours_order_to_delivery, ship_sla_met, delivery_sla_met",
		"('s1', 'o1', 'ups', 'delivered', TIMESTAMP '2026-11-20 09:00:00', TIMESTAMP '2026-11-20 20:00:00', TIMESTAMP '2026-11-22 08:00:00', 11.0, 36.0, 47.0, TRUE, TRUE)",
		"('s2', 'o3', 'dhl', 'label_created', TIMESTAMP '2026-11-20 18:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL)"))

	// Customer snapshots: c2 moves DE -> US on D1; c1 changes email on D, when c3
	// signs up; on D+1 c1 moves to ES, which no build of D may see.
	const ck = "snapshot_dt"
	cust := "customer_id, email, first_name, last_name, country, signup_ts"
	c1 := "('c1', 'ann@x', 'Ann', 'Lee', 'FR', TIMESTAMP '2026-01-05 08:00:00')"
	c2 := "('c2', 'bob@x', 'Bob', 'Roe', 'DE', TIMESTAMP '2026-11-01 07:00:00')"
	c2us := "('c2', 'bob@x', 'Bob', 'Roe', 'US', TIMESTAMP '2026-11-01 07:00:00')"
	c1mail := "('c1', 'ann2@x', 'Ann', 'Lee', 'FR', TIMESTAMP '2026-01-05 08:00:00')"
	c3 := "('c3', 'cy@x', 'Cy', 'Poe', 'GB', TIMESTAMP '2026-11-20 06:00:00')"
	c1es := "('c1', 'ann2@x', 'Ann', 'Lee', 'ES', TIMESTAMP '2026-01-05 08:00:00')"
	commit(t, env, "dims", "customers", ck, d0, rowsSQL(ck, d0, cust, c1, c2))
	commit(t, env, "dims", "customers", ck, d1, rowsSQL(ck, d1, cust, c1, c2us))
	commit(t, env, "dims", "customers", ck, d, rowsSQL(ck, d, cust, c1mail, c2us, c3))
	commit(t, env, "dims", "customers", ck, dNext, rowsSQL(ck, dNext, cust, c1es, c2us, c3))
	prod := "product_id, sku, name, category, unit_price, active"
	commit(t, env, "dims", "products", ck, d0, rowsSQL(ck, d0, prod,
		"('p1', 'S1', 'Tee', 'apparel', CAST(40.00 AS DECIMAL(10,2)), TRUE)", "('p2', 'S2', 'Mug', 'home', 25.00, TRUE)"))
	commit(t, env, "dims", "products", ck, dNext, rowsSQL(ck, dNext, prod,
		"('p1', 'S1', 'Tee', 'sports', CAST(45.00 AS DECIMAL(10,2)), TRUE)", "('p2', 'S2', 'Mug', 'home', 25.00, FALSE)"))
}

// loadAll loads every silver and enriched partition the fixture has on day.
func loadAll(t *testing.T, env *tasks.Env, day string) {
	t.Helper()
	tables := []string{"silver.orders", "silver.order_items", "enriched.cart_attribution", "enriched.payment_reconciliation"}
	if day == d {
		tables = append(tables, "enriched.customer_ltv", "enriched.customer_rfm", "enriched.product_performance",
			"enriched.daily_metrics", "enriched.funnel_conversion", "enriched.fulfillment_sla")
	}
	for _, tbl := range tables {
		if _, err := gold.Load(context.Background(), env, gold.LoadOptions{Table: tbl, Partition: day}); err != nil {
			t.Fatalf("gold load %s %s: %v", tbl, day, err)
		}
	}
}

func build(t *testing.T, env *tasks.Env, mart, day string) int64 {
	t.Helper()
	rec, err := gold.Build(context.Background(), env, gold.BuildOptions{Mart: mart, Partition: day})
	if err != nil {
		t.Fatalf("gold build %s %s: %v", mart, day, err)
	}
	return rec.RowsOut
}

// TestShopMarts builds each of the 8 facts and 3 dims on the fixture and compares
// its rows with the ones worked out by hand.
func TestShopMarts(t *testing.T) {
	env := newEnv(t, shopSpec(t), "marts1")
	fixture(t, env)
	loadAll(t, env, d)
	cases := []struct {
		mart, day, query, want string
	}{
		{"fct_orders", d, `SELECT CAST(order_date AS VARCHAR), order_id, customer_id, status, total_amount, is_cancelled, line_count, units,
			discount_total, channel, attributed, captured_amount, reconciliation_status FROM gold.fct_orders ORDER BY order_id`,
			"[2026-11-20 o1 c1 paid 100 false 2 3 5 email true 100 matched]\n" +
				"[2026-11-20 o2 c2 cancelled 50 true 1 1 0 direct false 0 matched]\n" +
				"[2026-11-20 o3 c1 placed 30 false 1 1 0 direct false 0 pending]"},
		// The products snapshot of D0 (p1 apparel), not D+1's (sports).
		{"fct_order_items", d, `SELECT order_id, line_no, customer_id, product_id, category, quantity, unit_price, discount_amount,
			line_amount, is_cancelled FROM gold.fct_order_items ORDER BY order_id, line_no`,
			"[o1 1 c1 p1 apparel 2 40 5 75 false]\n[o1 2 c1 p2 home 1 25 0 25 false]\n" +
				"[o2 1 c2 p1 apparel 1 50 0 50 true]\n[o3 1 c1 p2 home 1 30 0 30 false]"},
		{"fct_customers", d, `SELECT CAST(as_of_date AS VARCHAR), customer_id, country, order_count, lifetime_revenue, net_revenue,
			avg_order_value, recency_days, r_score, segment FROM gold.fct_customers ORDER BY customer_id`,
			"[2026-11-20 c1 FR 2 130 120 65 0 5 champion]\n[2026-11-20 c2 US 1 20 20 20 <nil> <nil> no_orders]"},
		{"fct_products", d, `SELECT product_id, sku, product_name, category, list_price, units_sold, revenue, refund_total, net_revenue,
			return_rate FROM gold.fct_products ORDER BY product_id`,
			"[p1 S1 Tee apparel 40 2 75 10 65 0.5]\n[p2 S2 Mug home 25 2 55 0 55 0]"},
		// 2 of 3 reconciled orders match: 0.6667; captured 100 + 0 + 0.
		{"fct_daily_sales", d, `SELECT CAST(sales_date AS VARCHAR), order_count, cancelled_order_count, revenue, net_revenue, captured_amount,
			payment_match_rate FROM gold.fct_daily_sales`,
			"[2026-11-20 2 1 130 120 100 0.6667]"},
		// 3 of 4 orders came by email.
		{"fct_funnel", d, `SELECT channel, sessions, orders, order_rate, order_share FROM gold.fct_funnel ORDER BY channel`,
			"[direct 2 1 0.5 0.25]\n[email 4 3 0.75 0.75]"},
		{"fct_payments", d, `SELECT CAST(order_date AS VARCHAR), order_id, expected_amount, captured_amount, balance, reconciliation_status
			FROM gold.fct_payments ORDER BY order_id`,
			"[2026-11-20 o1 100 100 0 matched]\n[2026-11-20 o2 0 0 0 matched]\n[2026-11-20 o3 30 0 -30 pending]"},
		{"fct_fulfillment", d, `SELECT CAST(fulfillment_date AS VARCHAR), shipment_id, order_id, carrier, hours_to_ship, hours_order_to_delivery,
			ship_sla_met, delivery_sla_met FROM gold.fct_fulfillment ORDER BY shipment_id`,
			"[2026-11-20 s1 o1 ups 11 47 true true]\n[2026-11-20 s2 o3 dhl <nil> <nil> <nil> <nil>]"},
		// Versions from the snapshots of D0, D1 and D; D+1 (c1 to ES) is not seen.
		{"dim_customers", d, `SELECT customer_id, version, email, country, CAST(valid_from AS VARCHAR), CAST(valid_to AS VARCHAR), is_current
			FROM gold.dim_customers WHERE as_of_date = DATE '2026-11-20' ORDER BY customer_id, version`,
			"[c1 1 ann@x FR 2026-11-18 2026-11-19 false]\n[c1 2 ann2@x FR 2026-11-20 9999-12-31 true]\n" +
				"[c2 1 bob@x DE 2026-11-18 2026-11-18 false]\n[c2 2 bob@x US 2026-11-19 9999-12-31 true]\n" +
				"[c3 1 cy@x GB 2026-11-20 9999-12-31 true]"},
		// As of D1: c1 has one version, c2 two, c3 is unknown.
		{"dim_customers", d1, `SELECT customer_id, version, country, CAST(valid_from AS VARCHAR), CAST(valid_to AS VARCHAR), is_current
			FROM gold.dim_customers WHERE as_of_date = DATE '2026-11-19' ORDER BY customer_id, version`,
			"[c1 1 FR 2026-11-18 9999-12-31 true]\n[c2 1 DE 2026-11-18 2026-11-18 false]\n[c2 2 US 2026-11-19 9999-12-31 true]"},
		{"dim_products", d, `SELECT CAST(as_of_date AS VARCHAR), product_id, category, unit_price, active, CAST(snapshot_dt AS VARCHAR)
			FROM gold.dim_products ORDER BY product_id`,
			"[2026-11-20 p1 apparel 40 true 2026-11-18]\n[2026-11-20 p2 home 25 true 2026-11-18]"},
		// 2026-11-22 is a Sunday.
		{"dim_date", "2026-11-22", `SELECT CAST(date_day AS VARCHAR), year, quarter, month, day_of_month, day_of_week, is_weekend,
			CAST(month_start AS VARCHAR), CAST(previous_day AS VARCHAR) FROM gold.dim_date`,
			"[2026-11-22 2026 4 11 22 7 true 2026-11-01 2026-11-21]"},
	}
	for _, tc := range cases {
		t.Run(tc.mart+"_"+tc.day, func(t *testing.T) {
			n := build(t, env, tc.mart, tc.day)
			w := openWarehouse(t, env)
			defer w.Close()
			got := rowsOf(t, w, tc.query)
			if got != tc.want {
				t.Errorf("%s %s:\n%s\nwant:\n%s", tc.mart, tc.day, got, tc.want)
			}
			if n == 0 {
				t.Errorf("build reported no rows")
			}
		})
	}
}
