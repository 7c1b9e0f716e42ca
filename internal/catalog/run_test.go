package catalog_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/catalog/catalogtest"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
)

// ask runs a query as `worker sql` does and returns stdout and stderr.
func ask(t *testing.T, cat *catalog.Catalog, q string, opt catalog.QueryOptions) (string, string, error) {
	t.Helper()
	var out, notes bytes.Buffer
	if opt.Format == "" {
		opt.Format = catalog.FormatCSV
	}
	opt.Notes = &notes
	cat.WorkDir = t.TempDir()
	err := cat.QueryWith(context.Background(), duck.Options{MemoryLimit: "256MB", Threads: 1}, q, &out, opt)
	return out.String(), notes.String(), err
}

// runFixture: silver.orders committed on D-1 and D; run r2 staged (its gate
// failed, say) silver.orders and quarantine.orders of D, a customers snapshot of
// D, and enriched.spend, which has nothing committed.
func runFixture(t *testing.T) *fixture {
	f := newFixture(t)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-19", `
order_id | customer_id | amount
O0       | C1          | 1.00`)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-20", `
order_id | customer_id | amount
O1       | C1          | 10.00`)
	catalogtest.Dim(t, f.l, f.sp, "customers", "2026-11-19", `
customer_id | tier
C1          | gold`)
	r2 := func(layer, table, key string) catalogtest.Partition {
		return catalogtest.Partition{Layer: layer, Table: table, Key: key, Value: "2026-11-20", RunID: "r2"}
	}
	catalogtest.Stage(t, f.l, r2(lake.Silver, "orders", "ingestion_dt"), catalogtest.SilverSchema(t, f.sp, "orders"), `
order_id | customer_id | amount
O1       | C1          | 11.00
O2       | C2          | 2.00`)
	catalogtest.Stage(t, f.l, r2(lake.Quarantine, "orders", "ingestion_dt"), catalogtest.QuarantineSchema(t, f.sp, "orders"), `
order_id | customer_id | amount | _reject_reason
O3       | C1          | abc    | cast_failed:amount`)
	catalogtest.Stage(t, f.l, r2(lake.Dims, "customers", "snapshot_dt"), []lake.Field{
		{Name: "customer_id", Type: "VARCHAR"}, {Name: "tier", Type: "VARCHAR"}, {Name: "snapshot_dt", Type: "DATE"}}, `
customer_id | tier
C1          | silver
C2          | bronze`)
	catalogtest.Stage(t, f.l, r2(lake.Enriched, "spend", "ingestion_dt"), []lake.Field{
		{Name: "customer_id", Type: "VARCHAR"}, {Name: "spend", Type: "DECIMAL(38,2)"}, {Name: "ingestion_dt", Type: "DATE"}}, `
customer_id | spend
C1          | 11.00`)
	return f
}

func TestQueryRunOverlaysWhatTheRunStaged(t *testing.T) {
	f := runFixture(t)
	const orders = "SELECT order_id, amount, CAST(ingestion_dt AS VARCHAR) AS d FROM silver.orders ORDER BY 1"
	for _, tc := range []struct {
		name, q string
		cat     catalog.Catalog
		want    string
	}{
		{"committed only", orders, catalog.Catalog{Partition: "2026-11-20"},
			"order_id,amount,d\nO0,1.00,2026-11-19\nO1,10.00,2026-11-20\n"},
		// The run's partition D replaces the committed one; D-1 stays committed.
		{"run overlay", orders, catalog.Catalog{Partition: "2026-11-20", Run: "r2"},
			"order_id,amount,d\nO0,1.00,2026-11-19\nO1,11.00,2026-11-20\nO2,2.00,2026-11-20\n"},
		// --partition D-1 limits the overlay to the run's D-1, which it did not stage.
		{"overlay limited to D", orders, catalog.Catalog{Partition: "2026-11-19", Run: "r2", RunOnlyPartition: true, PartitionGiven: true},
			"order_id,amount,d\nO0,1.00,2026-11-19\nO1,10.00,2026-11-20\n"},
		{"failed gate's quarantine", "SELECT order_id, amount, _reject_reason FROM quarantine.orders", catalog.Catalog{Partition: "2026-11-20", Run: "r2"},
			"order_id,amount,_reject_reason\nO3,abc,cast_failed:amount\n"},
		// dims.customers: the run's snapshot of D is the latest on or before D.
		{"staged snapshot", "SELECT customer_id, tier FROM dims.customers ORDER BY 1", catalog.Catalog{Partition: "2026-11-20", Run: "r2"},
			"customer_id,tier\nC1,silver\nC2,bronze\n"},
		{"committed snapshot", "SELECT customer_id, tier FROM dims.customers ORDER BY 1", catalog.Catalog{Partition: "2026-11-20"},
			"customer_id,tier\nC1,gold\n"},
		{"staged transform", "SELECT customer_id, spend FROM enriched.spend", catalog.Catalog{Partition: "2026-11-20", Run: "r2"},
			"customer_id,spend\nC1,11.00\n"},
	} {
		cat := tc.cat
		cat.Spec, cat.Lake = f.sp, f.l
		out, notes, err := ask(t, &cat, tc.q, catalog.QueryOptions{})
		if err != nil || out != tc.want || notes != "" {
			t.Errorf("%s: err %v, notes %q, output:\n%s\nwant:\n%s", tc.name, err, notes, out, tc.want)
		}
	}

	cat := &catalog.Catalog{Spec: f.sp, Lake: f.l, Partition: "2026-11-20", Run: "nope"}
	if _, _, err := ask(t, cat, "SELECT 1", catalog.QueryOptions{}); fail.Code(err) != fail.BadUsage || !strings.Contains(err.Error(), "run nope staged nothing") {
		t.Errorf("a run that staged nothing: %v (code %d), want a usage error naming it", err, fail.Code(err))
	}
}

func TestQueryNotesAnEmptyAnswer(t *testing.T) {
	f := runFixture(t)
	for _, tc := range []struct {
		name, q    string
		cat        catalog.Catalog
		out, notes string
		code       int
	}{
		{"nothing committed, a run staged it", "SELECT order_id FROM quarantine.orders", catalog.Catalog{Partition: "2026-11-20"},
			"order_id\n", "note: quarantine.orders has no committed partition (run r2 staged partition 2026-11-20: use --run r2)\n", 0},
		{"nothing committed, nothing staged", "SELECT * FROM silver.customers", catalog.Catalog{Partition: "2026-11-20"},
			"customer_id,tier,ingestion_dt\n", "note: silver.customers has no committed partition\n", 0},
		{"in a subquery, with the run", "SELECT 1 AS x WHERE EXISTS (SELECT 1 FROM silver.customers)", catalog.Catalog{Partition: "2026-11-20", Run: "r2"},
			"x\n", "note: silver.customers has no committed partition, nor did run r2 stage one\n", 0},
		// Committed partitions exist, but none on or before the given D.
		{"none up to D", "SELECT order_id FROM silver.orders WHERE ingestion_dt <= {{ partition }}", catalog.Catalog{Partition: "2026-11-18", PartitionGiven: true},
			"order_id\n", "note: silver.orders has no committed partition on or before 2026-11-18\n", 0},
		// Empty for another reason: the filter. No note.
		{"filtered out", "SELECT order_id FROM silver.orders WHERE false", catalog.Catalog{Partition: "2026-11-20"}, "order_id\n", "", 0},
		{"rows", "SELECT count(*) AS n FROM silver.customers", catalog.Catalog{Partition: "2026-11-20"}, "n\n0\n", "", 0},
		// A transform with nothing committed has no view: the error says why.
		{"unbound transform", "SELECT * FROM enriched.spend", catalog.Catalog{Partition: "2026-11-20"}, "", "", fail.BadUsage},
	} {
		cat := tc.cat
		cat.Spec, cat.Lake = f.sp, f.l
		out, notes, err := ask(t, &cat, tc.q, catalog.QueryOptions{})
		if fail.Code(err) != tc.code || out != tc.out || notes != tc.notes {
			t.Errorf("%s: err %v, output %q, notes %q; want code %d, output %q, notes %q", tc.name, err, out, notes, tc.code, tc.out, tc.notes)
		}
		if tc.code != 0 && !strings.Contains(err.Error(), "enriched.spend has no committed partition, so its columns are unknown (run r2 staged partition 2026-11-20: use --run r2)") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// warehouseFile writes a DuckDB warehouse as the gold tasks leave it: lake
// layers' copies, a mart, and the ops audit table.
func warehouseFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "warehouse.duckdb")
	db, err := sql.Open("duckdb", p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE SCHEMA silver", "CREATE TABLE silver.orders AS SELECT 'W1' AS order_id",
		"CREATE SCHEMA gold", "CREATE TABLE gold.fct_orders AS SELECT 'O1' AS order_id, DATE '2026-11-20' AS order_date",
		"CREATE SCHEMA ops", "CREATE TABLE ops.ops_task_audit AS SELECT 'gold.build' AS task, 4 AS rows_in",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestQueryReadsTheWarehouse(t *testing.T) {
	f := runFixture(t)
	wh := warehouseFile(t)
	for _, tc := range []struct {
		name, q string
		opt     catalog.QueryOptions
		out     string
		code    int
		msg     string
	}{
		{"a mart", "SELECT order_id, CAST(order_date AS VARCHAR) AS d FROM gold.fct_orders", catalog.QueryOptions{Warehouse: wh},
			"order_id,d\nO1,2026-11-20\n", 0, ""},
		{"ops", "SELECT task, rows_in FROM ops.ops_task_audit", catalog.QueryOptions{Warehouse: wh}, "task,rows_in\ngold.build,4\n", 0, ""},
		// Lake names stay the lake's; the warehouse's copy is warehouse.<layer>.<table>.
		{"lake and warehouse copy", "SELECT (SELECT count(*) FROM silver.orders) AS lake, (SELECT min(order_id) FROM warehouse.silver.orders) AS wh",
			catalog.QueryOptions{Warehouse: wh}, "lake,wh\n2,W1\n", 0, ""},
		{"gold joined with the lake", "SELECT g.order_id, s.amount FROM gold.fct_orders g JOIN silver.orders s USING (order_id)",
			catalog.QueryOptions{Warehouse: wh}, "order_id,amount\nO1,10.00\n", 0, ""},
		{"read-only", "DELETE FROM gold.fct_orders", catalog.QueryOptions{Warehouse: wh}, "", fail.BadUsage, ""},
		{"read-only, attached", "SELECT * FROM gold.fct_orders; DELETE FROM gold.fct_orders", catalog.QueryOptions{Warehouse: wh}, "", fail.BadUsage, ""},
		{"a mart not built", "SELECT * FROM gold.fct_customers", catalog.QueryOptions{Warehouse: wh}, "", fail.BadUsage,
			"gold.fct_customers is not in the warehouse " + wh + ": the spec has no such mart"},
		{"no warehouse file", "SELECT * FROM gold.fct_orders", catalog.QueryOptions{Warehouse: wh + ".missing"}, "", fail.BadUsage,
			"does not exist yet: `worker gold load` and `worker gold build` create it"},
		{"bigquery", "SELECT * FROM gold.fct_orders", catalog.QueryOptions{NoWarehouse: "gold is in BigQuery"}, "", fail.BadUsage,
			"the query names gold.fct_orders: gold is in BigQuery"},
		// A query that names no gold table never needs the warehouse.
		{"lake only", "SELECT count(*) AS n FROM silver.orders", catalog.QueryOptions{NoWarehouse: "gold is in BigQuery"}, "n\n2\n", 0, ""},
	} {
		cat := &catalog.Catalog{Spec: f.sp, Lake: f.l, Partition: "2026-11-20"}
		out, _, err := ask(t, cat, tc.q, tc.opt)
		if fail.Code(err) != tc.code || out != tc.out || (tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg))) {
			t.Errorf("%s: err %v (code %d), output %q; want code %d, output %q, error with %q", tc.name, err, fail.Code(err), out, tc.code, tc.out, tc.msg)
		}
	}
	// The warehouse is left as it was.
	db, err := sql.Open("duckdb", wh)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM gold.fct_orders").Scan(&n); err != nil || n != 1 {
		t.Errorf("gold.fct_orders after the queries: %d rows, %v", n, err)
	}
}
