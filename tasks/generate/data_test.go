package generate

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// openDuck opens an in-memory DuckDB with views bronze_<table> over every
// generated partition of the lake at root (ingest_dt from the folder names).
func openDuck(t *testing.T, root string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // views live per connection
	t.Cleanup(func() { db.Close() })
	for _, d := range shopTables {
		glob := filepath.Join(root, "bronze", d.name, "*", "*.parquet")
		q := "CREATE VIEW bronze_" + d.name + " AS SELECT * FROM read_parquet('" + glob + "', hive_partitioning = true, hive_types = {'ingest_dt': VARCHAR})"
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return n
}

func TestDuckDBReadsCleanData(t *testing.T) {
	dir := t.TempDir()
	generate(t, dir, Options{Days: 2, Start: day0, Scale: 0.001, Seed: 21})
	db := openDuck(t, dir)

	var id, ts, status, total string
	err := db.QueryRow(`SELECT order_id, order_ts, status, total_amount FROM bronze_orders WHERE ingest_dt = '2026-11-20' ORDER BY order_id LIMIT 1`).Scan(&id, &ts, &status, &total)
	if err != nil {
		t.Fatal(err)
	}
	if id != "O20261120-000001" || !strings.HasPrefix(ts, "2026-11-20T") || !strings.HasSuffix(ts, "Z") || len(ts) != len("2026-11-20T10:15:00Z") {
		t.Errorf("first order: id %q ts %q", id, ts)
	}

	// An order's first version lands on the day in its id; later versions (status
	// changes) one or two days after it.
	if _, err := db.Exec(`CREATE VIEW first_orders AS SELECT * FROM bronze_orders WHERE substr(order_id, 2, 8) = replace(ingest_dt, '-', '')`); err != nil {
		t.Fatal(err)
	}
	// Each check counts the rows that break an expectation.
	checks := map[string]string{
		"orders per day": `SELECT count(*) FROM (SELECT ingest_dt FROM first_orders GROUP BY 1 HAVING count(*) <> 1000)`,
		"ids and formats": `SELECT count(*) FROM bronze_orders WHERE NOT regexp_full_match(order_id, 'O[0-9]{8}-[0-9]{6}')
			OR NOT regexp_full_match(customer_id, 'C[0-9]{6}') OR NOT regexp_full_match(total_amount, '[0-9]+\.[0-9]{2}')`,
		"timestamps inside the day": `SELECT count(*) FROM bronze_orders WHERE strftime(try_strptime(order_ts, '%Y-%m-%dT%H:%M:%SZ'), '%Y%m%d') <> substr(order_id, 2, 8)
			OR try_strptime(updated_at, '%Y-%m-%dT%H:%M:%SZ') < try_strptime(order_ts, '%Y-%m-%dT%H:%M:%SZ')
			OR try_strptime(updated_at, '%Y-%m-%dT%H:%M:%SZ')::DATE::VARCHAR <> ingest_dt`,
		"later versions change the status of an order of one or two days before": `SELECT count(*) FROM bronze_orders l
			LEFT JOIN first_orders f ON f.order_id = l.order_id AND f.ingest_dt < l.ingest_dt
			WHERE l.order_id NOT IN (SELECT order_id FROM first_orders WHERE ingest_dt = l.ingest_dt)
			  AND (f.order_id IS NULL OR l.ingest_dt::DATE - f.ingest_dt::DATE NOT BETWEEN 1 AND 2
			   OR (f.customer_id, f.order_ts, f.total_amount, f.currency) <> (l.customer_id, l.order_ts, l.total_amount, l.currency)
			   OR (f.status, l.status) NOT IN (('placed', 'paid'), ('placed', 'cancelled'), ('placed', 'shipped'),
			                                   ('paid', 'shipped'), ('paid', 'delivered'), ('shipped', 'delivered')))`,
		"order statuses": `SELECT count(*) FROM bronze_orders WHERE status NOT IN ('placed', 'paid', 'shipped', 'delivered', 'cancelled') OR currency NOT IN ('USD', 'EUR', 'GBP')`,
		"total = sum(qty * price - discount)": `SELECT count(*) FROM bronze_orders o JOIN (
			SELECT order_id, sum(quantity::INT * unit_price::DECIMAL(12,2) - discount_amount::DECIMAL(12,2)) AS s, count(*) AS n, max(line_no::INT) AS m
			FROM bronze_order_items GROUP BY 1) i USING (order_id)
			WHERE o.total_amount::DECIMAL(12,2) <> i.s OR i.n NOT BETWEEN 1 AND 6 OR i.m <> i.n`,
		"orders without items": `SELECT count(*) FROM bronze_orders WHERE order_id NOT IN (SELECT order_id FROM bronze_order_items)`,
		"customers signed up by the order": `SELECT count(*) FROM bronze_orders o LEFT JOIN (
			SELECT customer_id, min(ingest_dt) AS d, min(signup_ts) AS s FROM bronze_customers GROUP BY 1) c USING (customer_id)
			WHERE c.d IS NULL OR c.d > o.ingest_dt OR c.s > o.order_ts`,
		"products exist by the order": `SELECT count(*) FROM bronze_order_items i LEFT JOIN (
			SELECT product_id, min(ingest_dt) AS d FROM bronze_products GROUP BY 1) p USING (product_id)
			WHERE p.d IS NULL OR p.d > i.ingest_dt`,
		"product values": `SELECT count(*) FROM bronze_products WHERE active NOT IN ('true', 'false')
			OR NOT regexp_full_match(unit_price, '[0-9]+\.[0-9]{2}') OR NOT regexp_full_match(product_id, 'P[0-9]{5}')`,
		"customer e-mails": `SELECT count(*) FROM bronze_customers WHERE NOT contains(email, '@')`,
		"product_id NULL exactly for page views and checkouts": `SELECT count(*) FROM bronze_cart_events
			WHERE (product_id IS NULL) <> (event_type IN ('page_view', 'checkout_started'))`,
		"every order has a checkout before it": `SELECT count(*) FROM first_orders o WHERE NOT EXISTS (
			SELECT 1 FROM bronze_cart_events e WHERE e.customer_id = o.customer_id AND e.event_type = 'checkout_started'
			AND e.event_ts <= o.order_ts AND e.ingest_dt = o.ingest_dt)`,
		"converting sessions use 1-3 channels": `SELECT count(*) FROM (SELECT session_id FROM bronze_cart_events
			WHERE customer_id IS NOT NULL GROUP BY 1 HAVING count(DISTINCT channel) NOT BETWEEN 1 AND 3)`,
		// The first day's returns are of its own orders (there is no day before).
		"returns of the previous day's delivered orders": `SELECT count(*) FROM bronze_returns r LEFT JOIN first_orders o USING (order_id)
			WHERE o.status IS DISTINCT FROM 'delivered' OR o.ingest_dt <> '2026-11-20'
			OR NOT EXISTS (SELECT 1 FROM bronze_order_items i WHERE i.order_id = r.order_id AND i.product_id = r.product_id AND r.quantity::INT <= i.quantity::INT)`,
		"shipments only for orders not cancelled or just placed": `SELECT count(*) FROM bronze_shipments s JOIN first_orders o USING (order_id)
			WHERE o.status IN ('placed', 'cancelled')`,
	}
	for name, q := range checks {
		if n := queryInt(t, db, q); n != 0 {
			t.Errorf("%s: %d rows break it", name, n)
		}
	}
	anon := float64(queryInt(t, db, `SELECT count(*) FROM bronze_cart_events WHERE customer_id IS NULL`)) /
		float64(queryInt(t, db, `SELECT count(*) FROM bronze_cart_events`))
	within(t, "share of anonymous cart events", anon, 0.25, 0.35)
	later := queryInt(t, db, `SELECT count(*) FROM bronze_orders WHERE ingest_dt = '2026-11-21' AND order_id LIKE 'O20261120-%'`)
	within(t, "later versions on day 2 per order of day 1", float64(later)/1000, 0.02, 0.08)
	retries := queryInt(t, db, `SELECT count(*) FROM bronze_payments WHERE status = 'failed'`)
	if retries == 0 {
		t.Error("no failed payment attempts")
	}
}

func TestFKOrphanCascade(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(t, dir)
	if _, err := Run(context.Background(), env, Options{Days: 2, Start: day0, Scale: 0.003, Seed: 4, FaultRate: 0.08}); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadLedger(context.Background(), env.Lake)
	if err != nil {
		t.Fatal(err)
	}
	type rowKey struct{ table, day, key string }
	reasons := map[rowKey][]string{}
	for _, e := range entries {
		k := rowKey{e.Table, e.Partition, e.Key}
		reasons[k] = append(reasons[k], e.Reason)
	}
	db := openDuck(t, dir)

	// childrenOf lists the children of the orders in the query's result that
	// carry a non-NULL key: table, day, key.
	childrenOf := func(orders string) [][3]string {
		t.Helper()
		rows, err := db.Query(`WITH o AS (` + orders + `)
			SELECT 'order_items', ingest_dt, order_id || '|' || line_no FROM bronze_order_items WHERE order_id IN (SELECT * FROM o) AND line_no IS NOT NULL AND trim(line_no) <> ''
			UNION ALL SELECT 'payments', ingest_dt, payment_id FROM bronze_payments WHERE order_id IN (SELECT * FROM o) AND trim(payment_id) <> ''
			UNION ALL SELECT 'shipments', ingest_dt, shipment_id FROM bronze_shipments WHERE order_id IN (SELECT * FROM o) AND trim(shipment_id) <> ''
			UNION ALL SELECT 'returns', ingest_dt, return_id FROM bronze_returns WHERE order_id IN (SELECT * FROM o) AND trim(return_id) <> ''`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out [][3]string
		for rows.Next() {
			var c [3]string
			if err := rows.Scan(&c[0], &c[1], &c[2]); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	// Every child of a rejected order is expected as fk_orphan:order_id, unless a
	// row rule of its own rejects it first.
	ownFault := func(r string) bool {
		k := reasonKind(r)
		return k == "cast_failed" || k == "not_null" || k == "accepted_values" || k == "check"
	}
	checkChildren := func(what string, rejected []string) {
		t.Helper()
		if len(rejected) == 0 {
			t.Fatalf("%s: none in the ledger", what)
		}
		orphans := map[string]int{}
		for _, c := range childrenOf("SELECT unnest(" + sqlList(rejected) + ")") {
			rs := reasons[rowKey{c[0], c[1], c[2]}]
			if len(rs) == 0 {
				t.Errorf("%s: %s %s on %s is not in the ledger", what, c[0], c[2], c[1])
				continue
			}
			for _, r := range rs {
				switch {
				case r == "fk_orphan:order_id":
					orphans[c[0]+" "+c[1]]++
				case !ownFault(r):
					t.Errorf("%s: %s %s on %s expected as %s, want fk_orphan:order_id", what, c[0], c[2], c[1], r)
				}
			}
		}
		t.Logf("%s: orphaned children %v", what, orphans)
		for _, want := range []string{"order_items 2026-11-20", "payments 2026-11-20", "shipments 2026-11-20", "returns 2026-11-21"} {
			if orphans[want] == 0 {
				t.Errorf("%s: no orphaned %s", what, want)
			}
		}
	}

	// Orders whose first version was rejected for a fault of its own: their key is
	// not in silver on their day (a later version rejected orphans nothing).
	var direct []string
	for _, e := range entries {
		first := strings.HasPrefix(e.Key, "O"+strings.ReplaceAll(e.Partition, "-", ""))
		if e.Table == "orders" && first && e.Outcome == OutcomeQuarantined && ownFault(e.Reason) {
			direct = append(direct, e.Key)
		}
	}
	checkChildren("orders with a bad row", direct)

	// Two levels: orders orphaned because their (real) customer was rejected...
	var cascaded []string
	rows, err := db.Query(`SELECT ingest_dt, order_id, customer_id FROM bronze_orders WHERE length(customer_id) = 7 AND trim(order_id) <> ''`)
	if err != nil {
		t.Fatal(err)
	}
	rejectedCustomer := map[string]bool{}
	for _, e := range entries {
		if e.Table == "customers" && ownFault(e.Reason) {
			rejectedCustomer[e.Key] = true
		}
	}
	for rows.Next() {
		var day, order, cust string
		if err := rows.Scan(&day, &order, &cust); err != nil {
			t.Fatal(err)
		}
		if rs := reasons[rowKey{"orders", day, order}]; len(rs) == 1 && rs[0] == "fk_orphan:customer_id" {
			if !rejectedCustomer[cust] {
				t.Errorf("order %s is expected as fk_orphan:customer_id, but customer %s has no rejected row", order, cust)
			}
			cascaded = append(cascaded, order)
		}
	}
	rows.Close()
	// ...orphan their items, payments, shipments and next-day returns in turn.
	checkChildren("orders of rejected customers", cascaded)
}

func sqlList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}
