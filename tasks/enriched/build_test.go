package enriched_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/catalog/catalogtest"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/enriched"
)

const buildSpec = `pipeline: t
bronze:
  tables:
    - name: orders
      columns:
        - {name: order_id, type: VARCHAR}
        - {name: amount, type: VARCHAR}
base_silver:
  tables:
    - name: orders
      source: orders
      primary_key: [order_id]
      columns:
        - {name: order_id, type: VARCHAR}
        - {name: amount, type: INTEGER}
enriched:
  transforms:
    - name: totals
      sql: sql/totals.sql
      depends_on: [silver.orders]
      checks: {min_rows: 1, not_null: [n]}
    - name: keyed
      sql: sql/keyed.sql
      partition_key: metric_dt
      depends_on: [enriched.totals]
    - name: broken
      sql: sql/broken.sql
      depends_on: [silver.orders]
`

func buildEnv(t *testing.T, files map[string]string) *tasks.Env {
	t.Helper()
	fsys := fstest.MapFS{"pipeline.yaml": {Data: []byte(buildSpec)}}
	for name, sql := range map[string]string{
		"sql/totals.sql": "SELECT count(*) AS n, sum(amount) AS total FROM silver.orders WHERE ingestion_dt <= {{ partition }};",
		"sql/keyed.sql":  "SELECT {{ partition }} AS metric_dt, n FROM enriched.totals WHERE ingestion_dt = {{ partition }}",
		"sql/broken.sql": "SELECT 1 AS x FROM silver.orders",
	} {
		if s, ok := files[name]; ok {
			sql = s
		}
		fsys[name] = &fstest.MapFile{Data: []byte(sql)}
	}
	sp, err := spec.Load(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, sp)
}

func TestBuildStagesTheResultWithItsManifest(t *testing.T) {
	env := buildEnv(t, nil)
	ctx := context.Background()
	p1 := catalogtest.Silver(t, env.Lake, env.Spec, "orders", "2026-11-19", "order_id | amount\nO1 | 10")
	p2 := catalogtest.Silver(t, env.Lake, env.Spec, "orders", day, "order_id | amount\nO2 | 5\nO3 | 1")
	catalogtest.Silver(t, env.Lake, env.Spec, "orders", "2026-11-21", "order_id | amount\nO4 | 100")

	// A stale manifest of an earlier attempt is replaced.
	dir := lake.StagingDir(env.RunID, lake.Enriched, "totals", "ingestion_dt", day)
	if _, err := lake.WriteBytes(ctx, env.Lake, path.Join(dir, lake.ManifestFile), []byte("{}"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	rec, err := enriched.Build(ctx, env, enriched.Options{Transform: "totals", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	part, err := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Enriched, "totals", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	m := part.Manifest
	// sum(INTEGER) is a HUGEINT in DuckDB: staged as BIGINT, not as Parquet's DOUBLE.
	wantSchema := []lake.Field{{Name: "n", Type: "BIGINT"}, {Name: "total", Type: "BIGINT"}, {Name: "ingestion_dt", Type: "DATE"}}
	if m.Version != 1 || m.Table != "totals" || m.Layer != lake.Enriched || m.Partition["ingestion_dt"] != day ||
		m.RowCount != 1 || len(m.Files) != 1 || m.Files[0].Path != "part-00000.parquet" || m.Files[0].Rows != 1 ||
		!reflect.DeepEqual(m.Schema, wantSchema) {
		t.Errorf("staged manifest = %s", lake.EncodeJSON(m))
	}
	// Silver is bound whole; the SQL's {{ partition }} filter keeps partitions <= D.
	catalogtest.Equal(t, catalogtest.Select(t, env.Lake, part, "SELECT * FROM t"), "n | total | ingestion_dt\n3 | 16 | 2026-11-20")

	if rec.Task != "enriched.build" || rec.Table != "totals" || rec.Status != audit.StatusSuccess || rec.RowsOut != 1 || rec.RowsIn != 4 {
		t.Errorf("audit = %+v", rec)
	}
	var inputs []string
	for _, in := range rec.Inputs {
		inputs = append(inputs, in.URI)
	}
	if len(rec.Inputs) != 3 || inputs[0] != env.Lake.URI(path.Join(p1.Dir, lake.ManifestFile)) ||
		inputs[1] != env.Lake.URI(path.Join(p2.Dir, lake.ManifestFile)) || rec.Inputs[1].Rows != 2 {
		t.Errorf("inputs = %+v", rec.Inputs)
	}
	if len(rec.Outputs) != 1 || rec.Outputs[0].URI != env.Lake.URI(path.Join(dir, lake.ManifestFile)) || rec.Outputs[0].Rows != 1 {
		t.Errorf("outputs = %+v", rec.Outputs)
	}
	b, err := lake.ReadAll(ctx, env.Lake, audit.AuditPath(day, env.RunID, spec.TaskEnrichedBuild, "totals"))
	var stored audit.Record
	if err != nil || json.Unmarshal(b, &stored) != nil || stored.RowsOut != 1 {
		t.Errorf("stored audit: %s, %v", b, err)
	}
	// Nothing is committed by a build.
	if vals, _ := lake.CommittedPartitions(ctx, env.Lake, lake.Enriched, "totals", "ingestion_dt"); len(vals) != 0 {
		t.Errorf("build committed %v", vals)
	}
}

func TestBuildKeepsAPartitionColumnTheSQLReturns(t *testing.T) {
	env := buildEnv(t, nil)
	ctx := context.Background()
	catalogtest.Silver(t, env.Lake, env.Spec, "orders", day, "order_id | amount\nO2 | 5")
	// keyed reads enriched.totals: nothing committed yet is a missing dependency.
	_, err := enriched.Build(ctx, env, enriched.Options{Transform: "keyed", Partition: day})
	if fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "enriched.totals") {
		t.Fatalf("build before its dependency: err = %v, want exit 3 naming enriched.totals", err)
	}

	buildAndValidate(t, env, "totals", day)
	commitStaged(t, env, "totals", day)
	p, _ := buildAndValidate(t, env, "keyed", day)
	if p.Dir != lake.StagingDir(env.RunID, lake.Enriched, "keyed", "metric_dt", day) {
		t.Errorf("staged at %s", p.Dir)
	}
	catalogtest.Equal(t, catalogtest.Select(t, env.Lake, p, "SELECT * FROM t"), "metric_dt | n\n2026-11-20 | 1")
}

func TestPartitionColumnMustHoldD(t *testing.T) {
	env := buildEnv(t, map[string]string{"sql/totals.sql": "SELECT 1 AS n, DATE '2026-11-19' AS ingestion_dt"})
	ctx := context.Background()
	o := enriched.Options{Transform: "totals", Partition: day}
	if _, err := enriched.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	_, rep, err := enriched.Validate(ctx, env, o)
	if fail.Code(err) != fail.BadData || !reflect.DeepEqual(rep.Failed(), []string{"partition_key"}) {
		t.Errorf("err = %v, failed %v; want partition_key", err, rep.Failed())
	}
}

func TestBadSQLIsAUsageErrorNamingTheFile(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ sql, want string }{
		{"SELECT {{ date_add \"day\" \"x\" }} FROM silver.orders", `function "date_add" not defined`},
		{"SELECT nope FROM silver.orders", "nope"},
		{"SELEC 1 FROM silver.orders", "syntax error"},
		{"SELECT 1 AS x FROM silver.orders; DROP VIEW silver.orders", "exactly one statement"},
		{"CREATE TABLE x AS SELECT * FROM silver.orders", "read-only"},
		// The sandbox: a file outside the task's folders cannot be read, whatever lint missed.
		{"SELECT content AS x FROM read_text('/etc/passwd')", "file system operations are disabled by configuration"},
		{"SELECT * FROM '/etc/hostname'", "/etc/hostname"},
	} {
		// The SQL replaces the loaded file after lint, so the build's own checks
		// are what refuse it (lint refuses the statements too: internal/spec).
		env := buildEnv(t, nil)
		env.Spec.SQL["sql/broken.sql"] = tc.sql
		_, err := enriched.Build(ctx, env, enriched.Options{Transform: "broken", Partition: day})
		if fail.Code(err) != fail.BadUsage || !strings.Contains(err.Error(), "test/sql/broken.sql") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v (code %d), want exit 2 naming the file and %q", tc.sql, err, fail.Code(err), tc.want)
		}
	}
}

func TestFailedRebuildLeavesNothingStaged(t *testing.T) {
	env := buildEnv(t, nil)
	ctx := context.Background()
	o := enriched.Options{Transform: "broken", Partition: day}
	if _, err := enriched.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	env.Spec.SQL["sql/broken.sql"] = "SELECT nope FROM silver.orders" // the rebuild fails
	if _, err := enriched.Build(ctx, env, o); err == nil {
		t.Fatal("rebuild succeeded")
	}
	_, err := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Enriched, "broken", "ingestion_dt", day)
	if !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("staged manifest after a failed rebuild: %v", err)
	}
	if _, rep, err := enriched.Validate(ctx, env, o); fail.Code(err) != fail.BadData || rep.Failed()[0] != "staged" {
		t.Errorf("validate after a failed rebuild: %v", err)
	}
}

func TestUnknownTransformOrBadPartition(t *testing.T) {
	env := buildEnv(t, nil)
	ctx := context.Background()
	for _, o := range []enriched.Options{{Transform: "nope", Partition: day}, {Transform: "totals", Partition: "../x"}} {
		if _, err := enriched.Build(ctx, env, o); fail.Code(err) != fail.BadUsage {
			t.Errorf("build %+v: err = %v, want exit 2", o, err)
		}
		if _, _, err := enriched.Validate(ctx, env, o); fail.Code(err) != fail.BadUsage {
			t.Errorf("validate %+v: err = %v, want exit 2", o, err)
		}
	}
}

// TestLookbackStagesOnlyTheWindow: over ten days of history, a dependency with
// lookback 1d binds partitions D-1 and D only, and the audit's inputs say so,
// while the unbounded transform over the same SQL binds all ten.
func TestLookbackStagesOnlyTheWindow(t *testing.T) {
	y := strings.Replace(buildSpec, "    - name: broken\n", `    - name: recent
      sql: sql/totals.sql
      depends_on: [{table: silver.orders, lookback: 1d}]
    - name: broken
`, 1)
	fsys := fstest.MapFS{"pipeline.yaml": {Data: []byte(y)},
		"sql/totals.sql": {Data: []byte("SELECT count(*) AS n, sum(amount) AS total FROM silver.orders WHERE ingestion_dt <= {{ partition }}")},
		"sql/keyed.sql":  {Data: []byte("SELECT {{ partition }} AS metric_dt, n FROM enriched.totals WHERE ingestion_dt = {{ partition }}")},
		"sql/broken.sql": {Data: []byte("SELECT 1 AS x FROM silver.orders")},
	}
	sp, err := spec.Load(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, sp)
	ctx := context.Background()
	var manifests []string
	for i := 11; i <= 20; i++ {
		d := fmt.Sprintf("2026-11-%02d", i)
		p := catalogtest.Silver(t, env.Lake, env.Spec, "orders", d, fmt.Sprintf("order_id | amount\nO%d | %d", i, i))
		manifests = append(manifests, env.Lake.URI(path.Join(p.Dir, lake.ManifestFile)))
	}
	for _, tc := range []struct {
		transform string
		inputs    []string
		out       string
	}{
		{"recent", manifests[8:], "n | total\n2 | 39"},
		{"totals", manifests, "n | total\n10 | 155"},
	} {
		t.Run(tc.transform, func(t *testing.T) {
			rec, err := enriched.Build(ctx, env, enriched.Options{Transform: tc.transform, Partition: day})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, in := range rec.Inputs {
				got = append(got, in.URI)
			}
			if !reflect.DeepEqual(got, tc.inputs) || rec.RowsIn != int64(len(tc.inputs)) {
				t.Errorf("inputs (rows_in %d):\n%s\nwant:\n%s", rec.RowsIn, strings.Join(got, "\n"), strings.Join(tc.inputs, "\n"))
			}
			part, err := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Enriched, tc.transform, "ingestion_dt", day)
			if err != nil {
				t.Fatal(err)
			}
			catalogtest.Equal(t, catalogtest.Select(t, env.Lake, part, "SELECT n, total FROM t"), tc.out)
		})
	}
}

// TestCartAttributionReadsTwoDaysOfEvents: the reference spec's cart_attribution
// binds the cart events of D-1 and D and the orders of D-3 .. D (the orders first
// seen on D are those not in the versions window before it), whatever the history.
func TestCartAttributionReadsTwoDaysOfEvents(t *testing.T) {
	env := shopEnv(t)
	ctx := context.Background()
	for i := 11; i <= 20; i++ {
		d := fmt.Sprintf("2026-11-%02d", i)
		silver(t, env, "orders", d, fmt.Sprintf(`
order_id | customer_id | order_ts            | status | total_amount
O%d      | C1          | %s 12:00:00         | paid   | 10.00`, i, d))
		silver(t, env, "cart_events", d, fmt.Sprintf(`
event_id | session_id | customer_id | event_type | channel | event_ts
E%d      | S%d        | C1          | page_view  | email   | %s 11:00:00`, i, i, d))
	}
	rec, err := enriched.Build(ctx, env, enriched.Options{Transform: "cart_attribution", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, in := range rec.Inputs {
		for _, table := range []string{"orders", "cart_events"} {
			if strings.Contains(in.URI, "/silver/"+table+"/") {
				count[table]++
			}
		}
	}
	if count["orders"] != 4 || count["cart_events"] != 2 || len(rec.Inputs) != 6 {
		t.Errorf("inputs = %+v, want orders of D-3 .. D and cart_events of D-1 and D", rec.Inputs)
	}
	part, err := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Enriched, "cart_attribution", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	catalogtest.Equal(t, catalogtest.Select(t, env.Lake, part, "SELECT order_id, channel, last_touch_event_id FROM t"), "order_id | channel | last_touch_event_id\nO20 | email | E20")
}
