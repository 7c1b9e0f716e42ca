// Package warehousetest is the conformance suite every warehouse backend passes
// (STYLE: one interface, one suite): DuckDB for real, BigQuery against the
// recording server of package bqfake.
package warehousetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // writes the Parquet sources

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/warehouse"
)

// Harness adapts a backend to the suite.
type Harness struct {
	// Open returns a fresh, empty warehouse; the suite closes it.
	Open func(t *testing.T) warehouse.Warehouse
	// URI maps a local Parquet file the suite wrote to the URI the backend loads
	// (file path for DuckDB, gs:// for BigQuery).
	URI func(local string) string
}

// Days used by the suite.
const (
	D0 = "2026-11-18"
	D1 = "2026-11-19"
	D2 = "2026-11-20"
)

var orders = warehouse.Table{Dataset: "silver", Name: "orders", PartitionBy: "ingestion_dt", ClusterBy: []string{"customer_id"},
	Schema: []warehouse.Field{{Name: "order_id", Type: "VARCHAR"}, {Name: "customer_id", Type: "VARCHAR"},
		{Name: "amount", Type: "DECIMAL(12,2)"}, {Name: "ingestion_dt", Type: "DATE"}}}

// Run runs every conformance test.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		f    func(*testing.T, Harness)
	}{
		{"FeaturesAreTheBackends", testFeatures},
		{"LoadReadsTheSourcesItClaims", testLoadSources},
		{"EnsureTwice", testEnsureTwice},
		{"LoadReplacesOnlyItsPartition", testLoadReplaces},
		{"LoadThreeTimesOneCopy", testLoadIdempotent},
		{"LoadRowOutsidePartition", testLoadOutside},
		{"LoadAddsColumns", testLoadAddsColumns},
		{"BuildReplacesOnlyItsPartition", testBuild},
		{"BuildRowOutsidePartition", testBuildOutside},
		{"BuildNeedsPartitionColumn", testBuildNoPartitionColumn},
		{"BuildReadsDimsAsOf", testBuildDimsAsOf},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, h) })
	}
}

type env struct {
	t   *testing.T
	h   Harness
	w   warehouse.Warehouse
	ctx context.Context
	dir string
	n   int
}

func start(t *testing.T, h Harness) *env {
	w := h.Open(t)
	t.Cleanup(func() { w.Close() })
	return &env{t: t, h: h, w: w, ctx: context.Background(), dir: t.TempDir()}
}

// source writes the rows of a SELECT to a Parquet file.
func (e *env) source(selectSQL string) warehouse.Source {
	e.t.Helper()
	e.n++
	local := filepath.Join(e.dir, fmt.Sprintf("part-%05d.parquet", e.n))
	db, err := sql.Open("duckdb", "")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", selectSQL, duck.Str(local))); err != nil {
		e.t.Fatalf("write source: %v", err)
	}
	var rows int64
	if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + duck.Str(local) + ")").Scan(&rows); err != nil {
		e.t.Fatal(err)
	}
	return warehouse.Source{URI: e.h.URI(local), Local: local, Rows: rows}
}

// orderRows makes n orders of day d: amounts 1.50, 3.00, ... (sum = 0.75 n (n+1)).
func orderRows(d string, n int, prefix string) string {
	return fmt.Sprintf(`SELECT '%s' || i AS order_id, 'c' || (i %% 3) AS customer_id,
		CAST(i * 1.5 AS DECIMAL(12,2)) AS amount, DATE '%s' AS ingestion_dt FROM range(1, %d) t(i)`, prefix, d, n+1)
}

func (e *env) load(t warehouse.Table, d, run string, srcs ...warehouse.Source) (warehouse.Result, error) {
	return e.w.Load(e.ctx, warehouse.LoadRequest{Table: t, Partition: d, Sources: srcs, RunID: run})
}

func (e *env) mustLoad(t warehouse.Table, d, run string, srcs ...warehouse.Source) warehouse.Result {
	e.t.Helper()
	res, err := e.load(t, d, run, srcs...)
	if err != nil {
		e.t.Fatalf("load %s %s: %v", t, d, err)
	}
	return res
}

// partitions returns "day:count:sum" per partition of a table, sorted.
func (e *env) partitions(t warehouse.Table, sumCol string) string {
	e.t.Helper()
	q := fmt.Sprintf("SELECT CAST(%s AS STRING) AS d, COUNT(*) AS n, CAST(SUM(%s) AS STRING) AS s FROM %s GROUP BY 1 ORDER BY 1",
		t.PartitionBy, sumCol, e.w.Dialect().Table(t.Dataset, t.Name))
	rows, err := e.w.Query(e.ctx, q)
	if err != nil {
		e.t.Fatalf("query %s: %v", t, err)
	}
	var parts []string
	for _, r := range rows.Values {
		parts = append(parts, fmt.Sprintf("%v:%v:%v", r[0], r[1], trimZeros(fmt.Sprint(r[2]))))
	}
	return strings.Join(parts, " ")
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// testFeatures checks that a warehouse reports its backend's features, and the
// claims that need no load: a LocalFile warehouse names its file, which exists.
func testFeatures(t *testing.T, h Harness) {
	e := start(t, h)
	b, err := warehouse.Lookup(e.w.Kind())
	if err != nil {
		t.Fatalf("kind %q has no backend: %v", e.w.Kind(), err)
	}
	if got := e.w.Features(); got != b.Features {
		t.Errorf("Features() = %+v, the %s backend declares %+v", got, b.Kind, b.Features)
	}
	if e.w.Dialect().Name() != b.Kind {
		t.Errorf("dialect %s, want the backend's kind %s", e.w.Dialect().Name(), b.Kind)
	}
	if !b.Features.LocalFile && b.QueryHint == nil {
		t.Errorf("%s: worker sql cannot attach it, and the backend gives no QueryHint", b.Kind)
	}
	if b.Features.LocalFile {
		f, ok := e.w.(interface{ Path() string })
		if !ok {
			t.Fatalf("%s claims LocalFile but has no Path()", b.Kind)
		}
		if _, err := os.Stat(f.Path()); err != nil {
			t.Errorf("%s claims LocalFile: %v", b.Kind, err)
		}
	}
}

// testLoadSources loads sources that hold only what Features.LocalSources says
// the backend reads (the local copy, or the URI), and checks the job ids Jobs
// promises.
func testLoadSources(t *testing.T, h Harness) {
	e := start(t, h)
	f := e.w.Features()
	src := e.source(orderRows(D2, 3, "a"))
	if f.LocalSources {
		src.URI = "unreachable://" + src.URI // must not be read
	} else {
		src.Local = ""
	}
	res := e.mustLoad(orders, D2, "r1", src)
	if res.Rows != 3 {
		t.Errorf("load reports %d rows, want 3", res.Rows)
	}
	if f.Jobs != (res.JobID != "") {
		t.Errorf("Features.Jobs = %v, but the load's job id is %q", f.Jobs, res.JobID)
	}
	if got, want := e.partitions(orders, "amount"), D2+":3:9"; got != want {
		t.Errorf("partitions = %q, want %q", got, want)
	}
}

func testEnsureTwice(t *testing.T, h Harness) {
	e := start(t, h)
	for i := 0; i < 2; i++ {
		if err := e.w.Ensure(e.ctx, orders); err != nil {
			t.Fatalf("ensure #%d: %v", i+1, err)
		}
	}
	if got := e.partitions(orders, "amount"); got != "" {
		t.Errorf("a new table holds %q, want nothing", got)
	}
}

func testLoadReplaces(t *testing.T, h Harness) {
	e := start(t, h)
	e.mustLoad(orders, D1, "r1", e.source(orderRows(D1, 2, "a")))
	res := e.mustLoad(orders, D2, "r1", e.source(orderRows(D2, 3, "b")))
	if res.Rows != 3 {
		t.Errorf("load D2 reports %d rows, want 3", res.Rows)
	}
	// A republished D2 (other files) replaces D2 and nothing else.
	res = e.mustLoad(orders, D2, "r1", e.source(orderRows(D2, 4, "c")))
	if res.Rows != 4 {
		t.Errorf("reload D2 reports %d rows, want 4", res.Rows)
	}
	if got, want := e.partitions(orders, "amount"), D1+":2:4.5 "+D2+":4:15"; got != want {
		t.Errorf("partitions = %q, want %q", got, want)
	}
}

func testLoadIdempotent(t *testing.T, h Harness) {
	e := start(t, h)
	src := e.source(orderRows(D2, 5, "a"))
	e.mustLoad(orders, D1, "r1", e.source(orderRows(D1, 1, "z")))
	for i := 0; i < 3; i++ {
		res := e.mustLoad(orders, D2, "r1", src)
		if res.Rows != 5 {
			t.Errorf("load #%d reports %d rows, want 5", i+1, res.Rows)
		}
		if got, want := e.partitions(orders, "amount"), D1+":1:1.5 "+D2+":5:22.5"; got != want {
			t.Errorf("after load #%d: partitions = %q, want %q", i+1, got, want)
		}
	}
	// Another run loads it again, still one copy.
	e.mustLoad(orders, D2, "r2", src)
	if got, want := e.partitions(orders, "amount"), D1+":1:1.5 "+D2+":5:22.5"; got != want {
		t.Errorf("after another run: partitions = %q, want %q", got, want)
	}
}

func testLoadOutside(t *testing.T, h Harness) {
	e := start(t, h)
	e.mustLoad(orders, D1, "r1", e.source(orderRows(D1, 2, "a")))
	e.mustLoad(orders, D2, "r1", e.source(orderRows(D2, 1, "b")))
	bad := e.source(orderRows(D2, 2, "c") + " UNION ALL " + orderRows(D1, 1, "x"))
	_, err := e.load(orders, D2, "r2", bad)
	if !errors.Is(err, warehouse.ErrOutsidePartition) {
		t.Fatalf("load with a row of D1 into D2: err = %v, want ErrOutsidePartition", err)
	}
	if got, want := e.partitions(orders, "amount"), D1+":2:4.5 "+D2+":1:1.5"; got != want {
		t.Errorf("a failed load changed the table: partitions = %q, want %q", got, want)
	}
}

func testLoadAddsColumns(t *testing.T, h Harness) {
	e := start(t, h)
	e.mustLoad(orders, D1, "r1", e.source(orderRows(D1, 2, "a")))
	wider := orders
	wider.Schema = append(append([]warehouse.Field(nil), orders.Schema...), warehouse.Field{Name: "channel", Type: "VARCHAR"})
	e.mustLoad(wider, D2, "r1", e.source("SELECT *, 'web' AS channel FROM ("+orderRows(D2, 2, "b")+")"))
	rows, err := e.w.Query(e.ctx, fmt.Sprintf("SELECT CAST(ingestion_dt AS STRING), COUNT(channel) FROM %s GROUP BY 1 ORDER BY 1",
		e.w.Dialect().Table("silver", "orders")))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rows.Values); got != "[["+D1+" 0] ["+D2+" 2]]" {
		t.Errorf("channel counts per partition = %s, want D1 0 (added later) and D2 2", got)
	}
}

var fct = warehouse.Table{Dataset: "gold", Name: "fct_customer_day", PartitionBy: "order_date", ClusterBy: []string{"customer_id"}}

// martSQL is portable spec SQL: a daily slice of silver.orders.
const martSQL = `SELECT {{ partition }} AS order_date, customer_id, COUNT(*) AS orders, SUM(amount) AS revenue
FROM silver.orders
WHERE ingestion_dt = {{ partition }}
GROUP BY customer_id`

func (e *env) render(src, d string, refs ...string) string {
	e.t.Helper()
	var rs []spec.Ref
	for _, r := range refs {
		ref, err := spec.ParseRef(r)
		if err != nil {
			e.t.Fatal(err)
		}
		rs = append(rs, ref)
	}
	q, err := warehouse.Render(src, warehouse.RenderOptions{Dialect: e.w.Dialect(), Partition: d, DependsOn: rs})
	if err != nil {
		e.t.Fatalf("render: %v", err)
	}
	return q
}

func (e *env) build(t warehouse.Table, d, run, src string, refs ...string) (warehouse.Result, error) {
	return e.w.Build(e.ctx, warehouse.BuildRequest{Table: t, Partition: d, SQL: e.render(src, d, refs...), RunID: run})
}

func testBuild(t *testing.T, h Harness) {
	e := start(t, h)
	e.mustLoad(orders, D1, "r1", e.source(orderRows(D1, 3, "a")))
	e.mustLoad(orders, D2, "r1", e.source(orderRows(D2, 6, "b")))
	for _, d := range []string{D1, D2} {
		if _, err := e.build(fct, d, "r1", martSQL, "silver.orders"); err != nil {
			t.Fatalf("build %s: %v", d, err)
		}
	}
	want := D1 + ":3:9 " + D2 + ":3:31.5"
	if got := e.partitions(fct, "revenue"); got != want {
		t.Fatalf("mart partitions = %q, want %q", got, want)
	}
	// Rebuilding D2 three times (the same run, then others) keeps one copy and D1.
	for i, run := range []string{"r1", "r2", "r2"} {
		res, err := e.build(fct, D2, run, martSQL, "silver.orders")
		if err != nil {
			t.Fatalf("rebuild #%d: %v", i+1, err)
		}
		if res.Rows != 3 {
			t.Errorf("rebuild #%d reports %d rows, want 3", i+1, res.Rows)
		}
		if got := e.partitions(fct, "revenue"); got != want {
			t.Errorf("after rebuild #%d: mart partitions = %q, want %q", i+1, got, want)
		}
	}
}

func testBuildOutside(t *testing.T, h Harness) {
	e := start(t, h)
	e.mustLoad(orders, D2, "r1", e.source(orderRows(D2, 3, "b")))
	if _, err := e.build(fct, D2, "r1", martSQL, "silver.orders"); err != nil {
		t.Fatal(err)
	}
	// order_date from the data's own column can point at another day: an error, not a spill.
	bad := `SELECT CASE WHEN customer_id = 'c1' THEN DATE '` + D1 + `' ELSE {{ partition }} END AS order_date,
	customer_id, COUNT(*) AS orders, SUM(amount) AS revenue FROM silver.orders WHERE ingestion_dt = {{ partition }} GROUP BY customer_id`
	_, err := e.build(fct, D2, "r2", bad, "silver.orders")
	if !errors.Is(err, warehouse.ErrOutsidePartition) {
		t.Fatalf("build with a row of D1 into D2: err = %v, want ErrOutsidePartition", err)
	}
	if got, want := e.partitions(fct, "revenue"), D2+":3:9"; got != want {
		t.Errorf("a failed build changed the mart: partitions = %q, want %q", got, want)
	}
}

func testBuildNoPartitionColumn(t *testing.T, h Harness) {
	e := start(t, h)
	e.mustLoad(orders, D2, "r1", e.source(orderRows(D2, 3, "b")))
	_, err := e.build(fct, D2, "r1", "SELECT customer_id, COUNT(*) AS orders FROM silver.orders GROUP BY customer_id", "silver.orders")
	if err == nil || !strings.Contains(err.Error(), "order_date") {
		t.Fatalf("build without the partition column: err = %v, want one naming order_date", err)
	}
}

var dimCustomers = warehouse.Table{Dataset: "dims", Name: "customers", PartitionBy: lake.DimsKey,
	Schema: []warehouse.Field{{Name: "customer_id", Type: "VARCHAR"}, {Name: "country", Type: "VARCHAR"}, {Name: lake.DimsKey, Type: "DATE"}}}

func testBuildDimsAsOf(t *testing.T, h Harness) {
	e := start(t, h)
	snap := func(d, country string) warehouse.Source {
		return e.source(fmt.Sprintf("SELECT 'c1' AS customer_id, '%s' AS country, DATE '%s' AS snapshot_dt", country, d))
	}
	e.mustLoad(dimCustomers, D0, "r1", snap(D0, "FR"))
	e.mustLoad(dimCustomers, D2, "r1", snap(D2, "DE"))
	mart := warehouse.Table{Dataset: "gold", Name: "dim_country", PartitionBy: "as_of"}
	src := `SELECT {{ partition }} AS as_of, c.customer_id, c.country,
	(SELECT COUNT(*) FROM dims.customers_history h WHERE h.customer_id = c.customer_id) AS versions
	FROM dims.customers c`
	rs := []spec.Ref{{Layer: "dims", Name: "customers"}, {Layer: "dims", Name: "customers_history"}}
	dims := func(name string) (string, bool, bool) {
		if name == "customers_history" {
			return "customers", true, true
		}
		return name, false, true
	}
	for _, d := range []string{D2, D1} { // backfill order must not matter
		q, err := warehouse.Render(src, warehouse.RenderOptions{Dialect: e.w.Dialect(), Partition: d, DependsOn: rs, Dims: dims})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.w.Build(e.ctx, warehouse.BuildRequest{Table: mart, Partition: d, SQL: q, RunID: "r1"}); err != nil {
			t.Fatalf("build %s: %v", d, err)
		}
	}
	rows, err := e.w.Query(e.ctx, "SELECT CAST(as_of AS STRING), country, versions FROM "+e.w.Dialect().Table("gold", "dim_country")+" ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	// D1 sees the D0 snapshot only; D2 sees its own, and two versions.
	if got, want := fmt.Sprint(rows.Values), "[["+D1+" FR 1] ["+D2+" DE 2]]"; got != want {
		t.Errorf("as-of dims = %s, want %s", got, want)
	}
}
