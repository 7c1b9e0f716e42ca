package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/catalog/catalogtest"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

const testSpec = `pipeline: t
bronze:
  tables:
    - name: customers
      columns:
        - {name: customer_id, type: VARCHAR}
        - {name: tier, type: VARCHAR}
    - name: orders
      columns:
        - {name: order_id, type: VARCHAR}
        - {name: customer_id, type: VARCHAR}
        - {name: amount, type: VARCHAR}
base_silver:
  tables:
    - name: customers
      source: customers
      primary_key: [customer_id]
      columns:
        - {name: customer_id, type: VARCHAR}
        - {name: tier, type: VARCHAR}
    - name: orders
      source: orders
      primary_key: [order_id]
      columns:
        - {name: order_id, type: VARCHAR}
        - {name: customer_id, type: VARCHAR}
        - {name: amount, type: "DECIMAL(10,2)"}
dims:
  - {name: customers, source: customers, max_age: 24h}
enriched:
  transforms:
    - name: spend
      sql: sql/spend.sql
      depends_on: [silver.orders]
`

func load(t *testing.T) *spec.Spec {
	t.Helper()
	sp, err := spec.Load(fstest.MapFS{
		"pipeline.yaml": {Data: []byte(testSpec)},
		"sql/spend.sql": {Data: []byte("SELECT customer_id, sum(amount) AS spend FROM silver.orders GROUP BY 1")},
	}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

type fixture struct {
	sp *spec.Spec
	l  lake.Lake
	s  *duck.Session
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := duck.Open(context.Background(), duck.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &fixture{sp: load(t), l: l, s: s}
}

func (f *fixture) catalog(d string) *catalog.Catalog {
	return &catalog.Catalog{Spec: f.sp, Lake: f.l, Partition: d}
}

func (f *fixture) query(t *testing.T, q string) string {
	t.Helper()
	return catalogtest.QueryText(t, f.s.Conn, q)
}

func (f *fixture) bind(t *testing.T, d string, refs ...string) []catalog.Binding {
	t.Helper()
	var rs []spec.Ref
	for _, r := range refs {
		ref, err := spec.ParseRef(r)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, ref)
	}
	b, err := f.catalog(d).Bind(context.Background(), f.s, rs...)
	if err != nil {
		t.Fatalf("bind %v for %s: %v", refs, d, err)
	}
	return b
}

func TestDimsBindTheLatestSnapshotOnOrBeforeD(t *testing.T) {
	f := newFixture(t)
	catalogtest.Dim(t, f.l, f.sp, "customers", "2026-11-18", `
customer_id | tier
C1          | bronze`)
	catalogtest.Dim(t, f.l, f.sp, "customers", "2026-11-20", `
customer_id | tier
C1          | gold
C2          | silver`)

	for _, tc := range []struct{ d, want string }{
		{"2026-11-17", "customer_id | tier | snapshot_dt"}, // before the first snapshot: empty, spec columns
		{"2026-11-18", "customer_id | tier | snapshot_dt\nC1 | bronze | 2026-11-18"},
		{"2026-11-19", "customer_id | tier | snapshot_dt\nC1 | bronze | 2026-11-18"}, // backfill: not the newer one
		{"2026-11-20", "customer_id | tier | snapshot_dt\nC1 | gold | 2026-11-20\nC2 | silver | 2026-11-20"},
		{"2026-12-01", "customer_id | tier | snapshot_dt\nC1 | gold | 2026-11-20\nC2 | silver | 2026-11-20"},
	} {
		t.Run(tc.d, func(t *testing.T) {
			b := f.bind(t, tc.d, "dims.customers")
			catalogtest.Equal(t, f.query(t, "SELECT customer_id, tier, snapshot_dt FROM dims.customers ORDER BY 1"), tc.want)
			if len(b) != 1 || len(b[0].Values()) > 1 {
				t.Errorf("binding = %+v, want one snapshot at most", b)
			}
		})
	}
}

func TestDimsHistoryHasEverySnapshotOnOrBeforeD(t *testing.T) {
	f := newFixture(t)
	for _, d := range []string{"2026-11-18", "2026-11-19", "2026-11-21"} {
		catalogtest.Dim(t, f.l, f.sp, "customers", d, `
customer_id | tier
C1          | t-`+d)
	}
	b := f.bind(t, "2026-11-20", "dims.customers_history")
	catalogtest.Equal(t, f.query(t, "SELECT customer_id, tier, snapshot_dt, typeof(snapshot_dt) AS ty FROM dims.customers_history ORDER BY snapshot_dt"), `
customer_id | tier         | snapshot_dt | ty
C1          | t-2026-11-18 | 2026-11-18  | DATE
C1          | t-2026-11-19 | 2026-11-19  | DATE`)
	if got := strings.Join(b[0].Values(), ","); got != "2026-11-18,2026-11-19" {
		t.Errorf("bound snapshots = %s", got)
	}
	if b[0].Rows() != 2 {
		t.Errorf("rows = %d, want 2", b[0].Rows())
	}
}

func TestSilverBindsEveryCommittedPartition(t *testing.T) {
	f := newFixture(t)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-20", `
order_id | customer_id | amount
O1       | C1          | 10.50`)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-21", `
order_id | customer_id | amount
O2       | C1          | 4.50
O3       | C2          | 1.00`)
	// A partition staged but never committed stays invisible.
	dir := lake.StagingDir("other", lake.Silver, "orders", "ingestion_dt", "2026-11-22")
	if _, err := lake.WriteBytes(context.Background(), f.l, dir+"/part-00000.parquet", []byte("junk"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}

	// D does not limit silver: the SQL filters with {{ partition }}.
	b := f.bind(t, "2026-11-20", "silver.orders", "silver.customers")
	catalogtest.Equal(t, f.query(t, "SELECT ingestion_dt, count(*) AS n, sum(amount) AS amount FROM silver.orders GROUP BY 1 ORDER BY 1"), `
ingestion_dt | n | amount
2026-11-20   | 1 | 10.50
2026-11-21   | 2 | 5.50`)
	// Only the files' own columns: the run=<id> and key=value folders add none.
	catalogtest.Equal(t, f.query(t, "SELECT column_name, column_type FROM (DESCRIBE silver.orders)"), `
column_name  | column_type
order_id     | VARCHAR
customer_id  | VARCHAR
amount       | DECIMAL(10,2)
ingestion_dt | DATE`)
	if b[0].Rows() != 3 || len(b[0].Partitions) != 2 {
		t.Errorf("orders binding: rows %d, partitions %d", b[0].Rows(), len(b[0].Partitions))
	}
	// Nothing committed: an empty view with the spec's columns and the partition key.
	catalogtest.Equal(t, f.query(t, "SELECT column_name, column_type FROM (DESCRIBE silver.customers)"), `
column_name  | column_type
customer_id  | VARCHAR
tier         | VARCHAR
ingestion_dt | DATE`)
	catalogtest.Equal(t, f.query(t, "SELECT count(*) AS n FROM silver.customers"), "n\n0")
}

func TestQuarantineGetsItsPartitionColumn(t *testing.T) {
	f := newFixture(t)
	catalogtest.Quarantine(t, f.l, f.sp, "orders", "2026-11-20", `
order_id | customer_id | amount | _reject_reason
O9       | C1          | abc    | cast_failed:amount`)
	catalogtest.Quarantine(t, f.l, f.sp, "orders", "2026-11-21", `
order_id | customer_id | amount | _reject_reason
NULL     | C1          | 1      | pk_null`)
	f.bind(t, "2026-11-21", "quarantine.orders")
	catalogtest.Equal(t, f.query(t, "SELECT ingestion_dt, order_id, _reject_reason FROM quarantine.orders ORDER BY 1"), `
ingestion_dt | order_id | _reject_reason
2026-11-20   | O9       | cast_failed:amount
2026-11-21   | NULL     | pk_null`)
}

func TestEnrichedBindingNeedsACommittedPartition(t *testing.T) {
	f := newFixture(t)
	_, err := f.catalog("2026-11-20").Bind(context.Background(), f.s, spec.Ref{Layer: "enriched", Name: "spend"})
	var missing *catalog.MissingError
	if !errors.As(err, &missing) || fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "enriched.spend") {
		t.Fatalf("err = %v (code %d), want a missing-dependency data error naming enriched.spend", err, fail.Code(err))
	}

	catalogtest.Commit(t, f.l, catalogtest.Partition{Layer: lake.Enriched, Table: "spend", Key: "ingestion_dt", Value: "2026-11-19"},
		[]lake.Field{{Name: "customer_id", Type: "VARCHAR"}, {Name: "spend", Type: "DECIMAL(38,2)"}, {Name: "ingestion_dt", Type: "DATE"}}, `
customer_id | spend
C1          | 7.25`)
	f.bind(t, "2026-11-20", "enriched.spend")
	catalogtest.Equal(t, f.query(t, "SELECT * FROM enriched.spend"), `
customer_id | spend | ingestion_dt
C1          | 7.25  | 2026-11-19`)
}

func TestUnknownNamesAreErrors(t *testing.T) {
	f := newFixture(t)
	for _, ref := range []spec.Ref{
		{Layer: "silver", Name: "nope"},
		{Layer: "dims", Name: "orders"},
		{Layer: "dims", Name: "nope_history"},
		{Layer: "enriched", Name: "nope"},
		{Layer: "quarantine", Name: "nope"},
		{Layer: "gold", Name: "fct_orders"},
		{Layer: "platinum", Name: "orders"},
	} {
		_, err := f.catalog("2026-11-20").Bind(context.Background(), f.s, ref)
		if err == nil || fail.Code(err) != fail.BadUsage || !strings.Contains(err.Error(), ref.String()) {
			t.Errorf("bind %s: err = %v, want a usage error naming it", ref, err)
		}
	}
	if _, err := f.catalog("2026-13-01").Bind(context.Background(), f.s, spec.Ref{Layer: "silver", Name: "orders"}); fail.Code(err) != fail.BadUsage {
		t.Errorf("bad partition: err = %v, want a usage error", err)
	}
}

func TestBindAllSkipsEnrichedWithoutData(t *testing.T) {
	f := newFixture(t)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-20", `
order_id | customer_id | amount
O1       | C1          | 1.00`)
	b, err := f.catalog("2026-11-20").BindAll(context.Background(), f.s)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range b {
		names = append(names, x.Ref.String())
	}
	want := "bronze.customers bronze.orders silver.customers silver.customers_latest silver.orders silver.orders_latest quarantine.customers quarantine.orders dims.customers dims.customers_history"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("bound %s\nwant  %s", got, want)
	}
	catalogtest.Equal(t, f.query(t, "SELECT count(*) AS n FROM silver.orders JOIN dims.customers USING (customer_id)"), "n\n0")
}

// TestLatestBindsTheNewestVersionOfEachKey: silver.<table>_latest holds each key
// once, its row of the latest partition on or before D, with that partition.
func TestLatestBindsTheNewestVersionOfEachKey(t *testing.T) {
	f := newFixture(t)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-20", `
order_id | customer_id | amount
O1       | C1          | 1.00
O2       | C2          | 2.00`)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-21", `
order_id | customer_id | amount
O1       | C1          | 1.50
O3       | C3          | 3.00`)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-22", `
order_id | customer_id | amount
O1       | C1          | 9.99`)
	b := f.bind(t, "2026-11-21", "silver.orders_latest")
	if got := strings.Join(b[0].Values(), " "); got != "2026-11-20 2026-11-21" {
		t.Errorf("silver.orders_latest as of 2026-11-21 reads %s, want the partitions up to D", got)
	}
	catalogtest.Equal(t, f.query(t, "SELECT order_id, amount, ingestion_dt FROM silver.orders_latest ORDER BY order_id"), `
order_id | amount | ingestion_dt
O1       | 1.50   | 2026-11-21
O2       | 2.00   | 2026-11-20
O3       | 3.00   | 2026-11-21`)
}

// TestBindPrevious: an incremental transform reads its partition D-1; the first
// build reads an empty relation of its declared columns; a gap is a data error
// naming the missing partition.
func TestBindPrevious(t *testing.T) {
	f := newFixture(t)
	tr := &spec.Transform{Name: "spend", Incremental: true,
		Columns: []spec.Column{{Name: "customer_id", Type: "VARCHAR"}, {Name: "spend", Type: "DECIMAL(18,2)"}}}
	ctx := context.Background()
	b, name, err := f.catalog("2026-11-20").BindPrevious(ctx, f.s, tr)
	if err != nil || len(b.Partitions) != 0 || name != `"previous"."spend"` {
		t.Fatalf("first build: %v, %d partitions, name %s", err, len(b.Partitions), name)
	}
	catalogtest.Equal(t, f.query(t, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM previous.spend)"), `
column_name  | column_type
customer_id  | VARCHAR
spend        | DECIMAL(18,2)
ingestion_dt | DATE`)
	catalogtest.Equal(t, f.query(t, "SELECT count(*) AS n FROM previous.spend"), "n\n0")

	schema := []lake.Field{{Name: "customer_id", Type: "VARCHAR"}, {Name: "spend", Type: "DECIMAL(18,2)"}, {Name: "ingestion_dt", Type: "DATE"}}
	for _, d := range []string{"2026-11-20", "2026-11-21"} {
		catalogtest.Commit(t, f.l, catalogtest.Partition{Layer: lake.Enriched, Table: "spend", Key: "ingestion_dt", Value: d}, schema,
			"customer_id | spend | ingestion_dt\nC1 | 1.00 | "+d)
	}
	b, _, err = f.catalog("2026-11-22").BindPrevious(ctx, f.s, tr)
	if err != nil || strings.Join(b.Values(), " ") != "2026-11-21" {
		t.Fatalf("D = 2026-11-22: %v, binds %v, want partition 2026-11-21", err, b.Values())
	}
	catalogtest.Equal(t, f.query(t, "SELECT customer_id, ingestion_dt FROM previous.spend"), `
customer_id | ingestion_dt
C1          | 2026-11-21`)
	// A rebuild of an earlier day reads the day before it, not the latest.
	if b, _, err = f.catalog("2026-11-21").BindPrevious(ctx, f.s, tr); err != nil || strings.Join(b.Values(), " ") != "2026-11-20" {
		t.Fatalf("rebuild of 2026-11-21: %v, binds %v", err, b.Values())
	}
	_, _, err = f.catalog("2026-11-24").BindPrevious(ctx, f.s, tr)
	if fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "2026-11-23, which is not committed") ||
		!strings.Contains(err.Error(), "--start 2026-11-22 --end 2026-11-24") {
		t.Errorf("gap: err = %v (exit %d), want a data error naming 2026-11-23 and the days to rebuild", err, fail.Code(err))
	}
}

func TestLookbackBindsOnlyTheWindow(t *testing.T) {
	f := newFixture(t)
	for day := 11; day <= 20; day++ {
		v := fmt.Sprintf("2026-11-%02d", day)
		catalogtest.Silver(t, f.l, f.sp, "orders", v, "order_id | customer_id | amount\nO"+v+" | C1 | 1.00")
		catalogtest.Dim(t, f.l, f.sp, "customers", v, "customer_id | tier\nC1 | t-"+v)
	}
	ctx := context.Background()
	orders := spec.Ref{Layer: "silver", Name: "orders"}
	history := spec.Ref{Layer: "dims", Name: "customers_history"}
	for _, tc := range []struct {
		name string
		d    string
		dep  spec.Dep
		want string
	}{
		{"1d", "2026-11-20", spec.Dep{Ref: orders, Lookback: spec.LookbackDays(1)}, "2026-11-19,2026-11-20"},
		{"0d", "2026-11-20", spec.Dep{Ref: orders, Lookback: spec.LookbackDays(0)}, "2026-11-20"},
		// A backfill of an older day: the window ends at D, later partitions stay out.
		{"backfill", "2026-11-15", spec.Dep{Ref: orders, Lookback: spec.LookbackDays(2)}, "2026-11-13,2026-11-14,2026-11-15"},
		{"unbounded", "2026-11-15", spec.Dep{Ref: orders}, "2026-11-11,2026-11-12,2026-11-13,2026-11-14,2026-11-15,2026-11-16,2026-11-17,2026-11-18,2026-11-19,2026-11-20"},
		{"history", "2026-11-20", spec.Dep{Ref: history, Lookback: spec.LookbackDays(1)}, "2026-11-19,2026-11-20"},
		{"before the data", "2026-11-05", spec.Dep{Ref: orders, Lookback: spec.LookbackDays(3)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := f.catalog(tc.d).BindDeps(ctx, f.s, tc.dep)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(b[0].Values(), ","); got != tc.want {
				t.Errorf("bound %s, want %s", got, tc.want)
			}
			if b[0].Window != tc.dep.Lookback {
				t.Errorf("binding window = %v, want %v", b[0].Window, tc.dep.Lookback)
			}
			// The view reads what was bound, no more.
			q := fmt.Sprintf("SELECT count(*) AS n FROM %s", tc.dep.Ref)
			n := len(b[0].Values())
			catalogtest.Equal(t, f.query(t, q), fmt.Sprintf("n\n%d", n))
			// Partitions (no session) resolves the same partitions.
			p, err := f.catalog(tc.d).PartitionsDeps(ctx, tc.dep)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(p[0].Values(), ","); got != tc.want {
				t.Errorf("PartitionsDeps = %s, want %s", got, tc.want)
			}
		})
	}
	// The latest snapshot is one partition: a window on it is refused.
	_, err := f.catalog("2026-11-20").BindDeps(ctx, f.s, spec.Dep{Ref: spec.Ref{Layer: "dims", Name: "customers"}, Lookback: spec.LookbackDays(1)})
	if fail.Code(err) != fail.BadUsage || !strings.Contains(err.Error(), "customers_history") {
		t.Errorf("lookback on dims.customers: err = %v, want a usage error pointing at dims.customers_history", err)
	}
}

func TestLookbackMissingEnrichedSaysWhichWindow(t *testing.T) {
	f := newFixture(t)
	catalogtest.Commit(t, f.l, catalogtest.Partition{Layer: lake.Enriched, Table: "spend", Key: "ingestion_dt", Value: "2026-11-10"},
		[]lake.Field{{Name: "customer_id", Type: "VARCHAR"}, {Name: "ingestion_dt", Type: "DATE"}}, "customer_id\nC1")
	_, err := f.catalog("2026-11-20").BindDeps(context.Background(), f.s,
		spec.Dep{Ref: spec.Ref{Layer: "enriched", Name: "spend"}, Lookback: spec.LookbackDays(1)})
	var missing *catalog.MissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "[2026-11-19, 2026-11-20]") {
		t.Fatalf("err = %v, want a missing-dependency error naming the window", err)
	}
}
