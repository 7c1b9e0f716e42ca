package warehouse_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
	"github.com/shoplake/lakehouse/internal/warehouse"
)

func refs(ss ...string) []spec.Ref {
	var out []spec.Ref
	for _, s := range ss {
		r, _ := spec.ParseRef(s)
		out = append(out, r)
	}
	return out
}

func dimsOf(name string) (string, bool, bool) {
	if b, ok := strings.CutSuffix(name, "_history"); ok {
		return b, true, true
	}
	return name, false, true
}

func TestRenderNames(t *testing.T) {
	src := `-- silver.orders in a comment stays
SELECT o.order_id, 'silver.orders' AS s, c.country, g.x
FROM silver.orders o
JOIN dims.customers c ON c.customer_id = o.customer_id
JOIN gold.fct_orders AS g ON g.order_id = o.order_id
LEFT JOIN dims.customers_history WHERE silver.orders.order_id IS NOT NULL AND enriched.other.x = 1
AND E'it\'s silver.orders' <> ''`
	deps := refs("silver.orders", "dims.customers", "dims.customers_history", "gold.fct_orders")
	for _, tc := range []struct {
		d    sqltext.Dialect
		want string
	}{
		{sqltext.DuckDB{}, `-- silver.orders in a comment stays
SELECT o.order_id, 'silver.orders' AS s, c.country, g.x
FROM "silver"."orders" o
JOIN (SELECT * FROM "dims"."customers" WHERE snapshot_dt = (SELECT MAX(snapshot_dt) FROM "dims"."customers" WHERE snapshot_dt <= DATE '2026-11-20')) c ON c.customer_id = o.customer_id
JOIN "gold"."fct_orders" AS g ON g.order_id = o.order_id
LEFT JOIN (SELECT * FROM "dims"."customers" WHERE snapshot_dt <= DATE '2026-11-20') AS customers_history WHERE silver.orders.order_id IS NOT NULL AND enriched.other.x = 1
AND E'it\'s silver.orders' <> ''`},
		{sqltext.BigQuery{Project: "p-1"}, "-- silver.orders in a comment stays\n" +
			"SELECT o.order_id, 'silver.orders' AS s, c.country, g.x\n" +
			"FROM `p-1.silver.orders` o\n" +
			"JOIN (SELECT * FROM `p-1.dims.customers` WHERE snapshot_dt = (SELECT MAX(snapshot_dt) FROM `p-1.dims.customers` WHERE snapshot_dt <= DATE '2026-11-20')) c ON c.customer_id = o.customer_id\n" +
			"JOIN `p-1.gold.fct_orders` AS g ON g.order_id = o.order_id\n" +
			"LEFT JOIN (SELECT * FROM `p-1.dims.customers` WHERE snapshot_dt <= DATE '2026-11-20') AS customers_history WHERE silver.orders.order_id IS NOT NULL AND enriched.other.x = 1\n" +
			"AND E'it\\'s silver.orders' <> ''"},
	} {
		got, err := warehouse.Render(src, warehouse.RenderOptions{Dialect: tc.d, Partition: "2026-11-20", DependsOn: deps, Dims: dimsOf})
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.d.Name(), got, tc.want)
		}
	}
}

func TestRenderMacros(t *testing.T) {
	src := `{{ partition }}|{{ date_trunc "month" "order_ts" }}|{{ date_diff "day" "a" "b" }}|{{ date_add "quarter" 1 "d" }}|{{ date_add "week" -1 "d" }}|{{ safe_divide "x" "y" }}|{{ day_of_week "d" }}`
	for _, tc := range []struct {
		d    sqltext.Dialect
		want string
	}{
		{sqltext.DuckDB{}, "DATE '2026-11-20'|date_trunc('month', order_ts)|date_diff('day', a, b)|" +
			"CAST(CAST(d AS DATE) + INTERVAL (3) MONTH AS DATE)|CAST(CAST(d AS DATE) + INTERVAL (-7) DAY AS DATE)|(x) / NULLIF(y, 0)|isodow(d)"},
		{sqltext.BigQuery{Project: "p"}, "DATE '2026-11-20'|DATE_TRUNC(order_ts, MONTH)|DATE_DIFF(b, a, DAY)|" +
			"DATE_ADD(CAST(d AS DATE), INTERVAL 3 MONTH)|DATE_ADD(CAST(d AS DATE), INTERVAL -7 DAY)|SAFE_DIVIDE(x, y)|(MOD(EXTRACT(DAYOFWEEK FROM d) + 5, 7) + 1)"},
	} {
		got, err := warehouse.Expand(src, tc.d, "2026-11-20")
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.d.Name(), got, tc.want)
		}
	}
	for _, bad := range []string{`{{ date_add "hour" 1 "x" }}`, `{{ day_of_week "1; DROP TABLE x" }}`, `{{ nosuch }}`, `{{ partition`} {
		if _, err := warehouse.Expand(bad, sqltext.DuckDB{}, "2026-11-20"); err == nil {
			t.Errorf("Expand(%q) succeeded", bad)
		}
	}
	if _, err := warehouse.Render("SELECT 1", warehouse.RenderOptions{Dialect: sqltext.DuckDB{}, Partition: "../x"}); err == nil {
		t.Error("a partition that is not a date was accepted")
	}
}

// The DuckDB renderings of the gold macros compute what the README table promises.
func TestMacrosOnDuckDB(t *testing.T) {
	ctx := context.Background()
	w, err := warehouse.OpenDuckDB(ctx, warehouse.Config{Path: filepath.Join(t.TempDir(), "w.duckdb"), Duck: duck.Options{MemoryLimit: "256MB", Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	src := `SELECT
	CAST({{ date_add "day" -1 "DATE '2026-03-01'" }} AS VARCHAR),
	CAST({{ date_add "week" 1 "TIMESTAMP '2026-11-20 23:00:00'" }} AS VARCHAR),
	CAST({{ date_add "quarter" 1 "DATE '2026-11-30'" }} AS VARCHAR),
	{{ day_of_week "DATE '2026-11-22'" }},
	{{ day_of_week "DATE '2026-11-23'" }},
	{{ safe_divide "3" "0" }} IS NULL`
	q, err := warehouse.Expand(src, w.Dialect(), "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := w.Query(ctx, q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	want := []any{"2026-02-28", "2026-11-27", "2027-02-28", int64(7), int64(1), true}
	for i, v := range rows.Values[0] {
		if v != want[i] {
			t.Errorf("column %d = %v (%T), want %v (%T)", i+1, v, v, want[i], want[i])
		}
	}
}

// TestRenderBounds: a name with a depends_on lookback reads only the rows of its
// window, aliased as the SQL names it; unbounded names stay plain tables.
func TestRenderBounds(t *testing.T) {
	src := "SELECT * FROM silver.orders o JOIN enriched.x USING (id) JOIN dims.customers_history h USING (id) JOIN silver.items USING (id)"
	got, err := warehouse.Render(src, warehouse.RenderOptions{Dialect: sqltext.DuckDB{}, Partition: "2026-11-20",
		DependsOn: refs("silver.orders", "enriched.x", "dims.customers_history", "silver.items"), Dims: dimsOf,
		Bounds: map[spec.Ref]warehouse.Bound{
			{Layer: "silver", Name: "orders"}:          {Key: "ingestion_dt", Since: "2026-11-19"},
			{Layer: "enriched", Name: "x"}:             {Key: "metric_dt", Since: "2026-11-20"},
			{Layer: "dims", Name: "customers_history"}: {Key: "snapshot_dt", Since: "2026-11-13"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT * FROM (SELECT * FROM "silver"."orders" WHERE ingestion_dt BETWEEN DATE '2026-11-19' AND DATE '2026-11-20') o` +
		` JOIN (SELECT * FROM "enriched"."x" WHERE metric_dt BETWEEN DATE '2026-11-20' AND DATE '2026-11-20') AS x USING (id)` +
		` JOIN (SELECT * FROM "dims"."customers" WHERE snapshot_dt BETWEEN DATE '2026-11-13' AND DATE '2026-11-20') h USING (id)` +
		` JOIN "silver"."items" USING (id)`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
