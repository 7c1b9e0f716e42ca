package silver_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

const testSpec = `pipeline: t
bronze:
  tables:
    - name: customers
      columns:
        - {name: customer_id, type: VARCHAR}
        - {name: email, type: VARCHAR}
        - {name: updated_at, type: VARCHAR}
    - name: orders
      columns:
        - {name: order_id, type: VARCHAR}
        - {name: customer_id, type: VARCHAR}
        - {name: amount, type: VARCHAR}
        - {name: status, type: VARCHAR}
base_silver:
  tables:
    - name: customers
      source: customers
      primary_key: [customer_id]
      dedup: {order_by: [updated_at desc]}
      columns:
        - {name: customer_id, type: VARCHAR, not_null: true}
        - {name: email, type: VARCHAR, check: "contains(email, '@')"}
        - {name: updated_at, type: TIMESTAMP}
      thresholds: {max_quarantine_rate: 0.5, max_row_loss: 0.6}
    - name: orders
      source: orders
      primary_key: [order_id]
      columns:
        - {name: order_id, type: VARCHAR, not_null: true}
        - {name: customer_id, type: VARCHAR, not_null: true}
        - {name: amount, type: "DECIMAL(10,2)", check: "amount >= 0"}
        - {name: status, type: VARCHAR, accepted_values: [placed, paid]}
      foreign_keys:
        - {column: customer_id, references: customers.customer_id}
      thresholds: {max_quarantine_rate: 0.9, max_row_loss: 0.9}
`

const day = "2026-11-20"

func newEnv(t *testing.T, specYAML, runID string) *tasks.Env {
	t.Helper()
	s, err := spec.Load(fstest.MapFS{"pipeline.yaml": {Data: []byte(specYAML)}}, "test")
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &tasks.Env{Spec: s, Lake: l, Log: logx.Discard(), RunID: runID, WorkDir: t.TempDir(),
		Duck: duck.Options{MemoryLimit: "512MB", Threads: 2}, Version: "test",
		Now: func() time.Time { return time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC) }}
}

// writeBronze writes rows (NULL as nil) as a bronze partition with its manifest.
func writeBronze(t *testing.T, env *tasks.Env, table, d string, rows [][]any) {
	t.Helper()
	bt, _ := env.Spec.BronzeTable(table)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cols, types []string
	for _, c := range bt.Columns {
		cols = append(cols, c.Name+" "+c.Type)
		types = append(types, c.Name)
	}
	if _, err := db.Exec("CREATE TABLE b (" + strings.Join(cols, ", ") + ")"); err != nil {
		t.Fatal(err)
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	for _, r := range rows {
		if _, err := db.Exec("INSERT INTO b VALUES ("+ph+")", r...); err != nil {
			t.Fatal(err)
		}
	}
	local := filepath.Join(t.TempDir(), "part.parquet")
	if _, err := db.Exec(fmt.Sprintf("COPY b TO '%s' (FORMAT parquet)", local)); err != nil {
		t.Fatal(err)
	}
	dir := lake.PartitionDir(lake.Bronze, table, env.Spec.BronzeKey(), d)
	info, err := lake.Upload(context.Background(), env.Lake, local, dir+"/part-00000.parquet", lake.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	m := lake.Manifest{Version: 1, Table: table, Partition: map[string]string{env.Spec.BronzeKey(): d}, RowCount: int64(len(rows)),
		Files: []lake.File{{Path: "part-00000.parquet", Rows: int64(len(rows)), Bytes: info.Size, CRC32C: info.CRC32C}}}
	if _, err := lake.WriteBytes(context.Background(), env.Lake, dir+"/_MANIFEST.json", lake.EncodeJSON(&m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
}

// query runs q over the committed (or staged) partition files and returns rows as "a|b|c".
func query(t *testing.T, p *lake.Partition, env *tasks.Env, q string) []string {
	t.Helper()
	locals, err := lake.Localize(context.Background(), env.Lake, p.FilePaths(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE VIEW t AS SELECT * FROM read_parquet(" + duck.StrList(locals) + ", hive_partitioning = false)"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func buildValidatePublish(t *testing.T, env *tasks.Env, table string) *audit.Record {
	t.Helper()
	ctx := context.Background()
	rec, err := silver.Build(ctx, env, silver.Options{Table: table, Partition: day})
	if err != nil {
		t.Fatalf("build %s: %v", table, err)
	}
	if _, _, err := silver.Validate(ctx, env, silver.Options{Table: table, Partition: day}); err != nil {
		t.Fatalf("validate %s: %v", table, err)
	}
	if _, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: table, Partition: day}); err != nil {
		t.Fatalf("publish %s: %v", table, err)
	}
	return rec
}

func TestBuildQuarantinesEveryRuleWithItsReason(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	writeBronze(t, env, "customers", day, [][]any{
		{"C1", "old@x.io", "2026-11-19 10:00:00"},
		{"C1", "new@x.io", "2026-11-20 10:00:00"}, // newer version wins
		{"C2", "no-at-sign", "2026-11-20 10:00:00"},
		{" C3 ", "c3@x.io", "2026-11-20 11:00:00"}, // trimmed
		{"C4", "c4@x.io", "not a time"},
	})
	writeBronze(t, env, "orders", day, [][]any{
		{"O1", "C1", "10.50", "placed"},
		{nil, "C1", "1.00", "placed"},
		{"  ", "C1", "1.00", "placed"},
		{"O3", "C1", "abc", "zzz"}, // cast comes before accepted_values
		{"O4", "C1", "5.00", "zzz"},
		{"O5", "C1", "-1.00", "paid"},
		{"O6", "C9", "5.00", "paid"},
		{"O7", "C1", "1.00", "paid"},
		{"O7", "C3", "2.00", "paid"}, // duplicate key, no dedup policy: both rejected
		{"O8", "C2", "5.00", "paid"}, // parent rejected: orphan
		{"O9", nil, "5.00", "paid"},
		{"O10", "C3", "", "paid"}, // empty is NULL, not a cast failure
	})

	crec := buildValidatePublish(t, env, "customers")
	if crec.RowsIn != 5 || crec.RowsOut != 2 || crec.RowsDeduplicated != 1 || crec.RowsQuarantined != 2 {
		t.Errorf("customers counts: in %d out %d dedup %d quarantined %d", crec.RowsIn, crec.RowsOut, crec.RowsDeduplicated, crec.RowsQuarantined)
	}
	orec := buildValidatePublish(t, env, "orders")
	if orec.RowsIn != orec.RowsOut+orec.RowsQuarantined+orec.RowsDeduplicated {
		t.Errorf("conservation broken: %+v", orec)
	}

	ctx := context.Background()
	cq, err := lake.ReadCommitted(ctx, env.Lake, lake.Quarantine, "customers", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	got := query(t, cq, env, "SELECT concat_ws('|', coalesce(customer_id, 'NULL'), _reject_reason) FROM t ORDER BY 1")
	// The dedup loser is kept in quarantine, findable by key, but counted as deduplicated.
	want := []string{"C1|deduplicated", "C2|check:email", "C4|cast_failed:updated_at"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("customers quarantine = %v, want %v", got, want)
	}
	got = query(t, cq, env, "SELECT concat_ws('|', email, _source_row) FROM t WHERE customer_id = 'C1' AND _reject_reason = 'deduplicated'")
	if strings.Join(got, ",") != "old@x.io|0" {
		t.Errorf("deduplicated row of C1 = %v, want the older version (old@x.io, row 0)", got)
	}
	if cq.Manifest.RowCount != crec.RowsQuarantined+crec.RowsDeduplicated {
		t.Errorf("customers quarantine manifest row_count = %d, want quarantined %d + deduplicated %d",
			cq.Manifest.RowCount, crec.RowsQuarantined, crec.RowsDeduplicated)
	}
	cs, err := lake.ReadCommitted(ctx, env.Lake, lake.Silver, "customers", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	got = query(t, cs, env, "SELECT concat_ws('|', customer_id, email, CAST(ingestion_dt AS VARCHAR)) FROM t ORDER BY 1")
	want = []string{"C1|new@x.io|2026-11-20", "C3|c3@x.io|2026-11-20"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("customers silver = %v, want %v", got, want)
	}

	oq, err := lake.ReadCommitted(ctx, env.Lake, lake.Quarantine, "orders", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	got = query(t, oq, env, "SELECT concat_ws('|', coalesce(order_id, 'NULL'), _reject_reason, _run_id) FROM t ORDER BY _source_row")
	want = []string{
		"NULL|pk_null|run1", "  |pk_null|run1", "O3|cast_failed:amount|run1", "O4|accepted_values:status|run1",
		"O5|check:amount|run1", "O6|fk_orphan:customer_id|run1", "O7|pk_duplicate|run1", "O7|pk_duplicate|run1",
		"O8|fk_orphan:customer_id|run1", "O9|not_null:customer_id|run1",
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("orders quarantine =\n %v\nwant\n %v", got, want)
	}
	os, err := lake.ReadCommitted(ctx, env.Lake, lake.Silver, "orders", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	got = query(t, os, env, "SELECT concat_ws('|', order_id, coalesce(CAST(amount AS VARCHAR), 'NULL')) FROM t ORDER BY 1")
	want = []string{"O10|NULL", "O1|10.50"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("orders silver = %v, want %v", got, want)
	}
	if orec.Reasons["pk_duplicate"] != 2 || orec.Reasons["pk_null"] != 2 {
		t.Errorf("reasons = %v", orec.Reasons)
	}
}

func TestValidateFailsOnThresholdAndPublishRefuses(t *testing.T) {
	strict := strings.Replace(testSpec, "{max_quarantine_rate: 0.5, max_row_loss: 0.6}", "{max_quarantine_rate: 0.1, max_row_loss: 0.6}", 1)
	env := newEnv(t, strict, "run1")
	writeBronze(t, env, "customers", day, [][]any{
		{"C1", "a@x.io", "2026-11-20 10:00:00"},
		{"C2", "bad", "2026-11-20 10:00:00"},
	})
	ctx := context.Background()
	if _, err := silver.Build(ctx, env, silver.Options{Table: "customers", Partition: day}); err != nil {
		t.Fatal(err)
	}
	_, rep, err := silver.Validate(ctx, env, silver.Options{Table: "customers", Partition: day})
	if fail.Code(err) != fail.BadData {
		t.Fatalf("validate: code %d, err %v; want exit 3", fail.Code(err), err)
	}
	if !strings.Contains(err.Error(), "quarantine_rate") || !strings.Contains(err.Error(), "customers") || !strings.Contains(err.Error(), day) {
		t.Errorf("error does not name check, table and partition: %v", err)
	}
	if got := rep.Failed(); len(got) != 1 || got[0] != "quarantine_rate" {
		t.Errorf("failed checks = %v", got)
	}
	_, err = publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day})
	if fail.Code(err) != fail.BadData {
		t.Fatalf("publish after failed gate: code %d, err %v", fail.Code(err), err)
	}
	if _, err := lake.ReadCommitted(ctx, env.Lake, lake.Silver, "customers", "ingestion_dt", day); err == nil {
		t.Error("a partition whose gate failed became visible")
	}
}

func TestRebuildGivesSameContentAndOneVisibleVersion(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	writeBronze(t, env, "customers", day, [][]any{
		{"C1", "a@x.io", "2026-11-20 10:00:00"},
		{"C2", "b@x.io", "2026-11-20 09:00:00"},
	})
	buildValidatePublish(t, env, "customers")
	ctx := context.Background()
	first, err := lake.ReadCommitted(ctx, env.Lake, lake.Silver, "customers", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	env.RunID = "run2"
	buildValidatePublish(t, env, "customers")
	second, err := lake.ReadCommitted(ctx, env.Lake, lake.Silver, "customers", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	if second.Manifest.RunID != "run2" || len(second.Manifest.Files) != 1 || !strings.HasPrefix(second.Manifest.Files[0].Path, "run=run2/") {
		t.Errorf("commit point does not show exactly run2: %+v", second.Manifest)
	}
	q := "SELECT concat_ws('|', customer_id, email, CAST(updated_at AS VARCHAR)) FROM t ORDER BY 1"
	a, b := query(t, first, env, q), query(t, second, env, q)
	sort.Strings(a)
	sort.Strings(b)
	if strings.Join(a, ",") != strings.Join(b, ",") || len(a) != 2 {
		t.Errorf("rebuild changed content: %v vs %v", a, b)
	}
	if first.Manifest.Files[0].CRC32C != second.Manifest.Files[0].CRC32C {
		t.Errorf("rebuild changed the file bytes: %s vs %s", first.Manifest.Files[0].CRC32C, second.Manifest.Files[0].CRC32C)
	}
	// Publishing run2 again is a no-op.
	if _, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day}); err != nil {
		t.Fatal(err)
	}
	again, _ := lake.ReadCommitted(ctx, env.Lake, lake.Silver, "customers", "ingestion_dt", day)
	if again.Manifest.CommittedAt != second.Manifest.CommittedAt {
		t.Error("republishing a committed run changed the commit point")
	}
}

func TestForeignKeySeesStagedParentOnlyAfterItsGate(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	writeBronze(t, env, "customers", day, [][]any{{"C1", "a@x.io", "2026-11-20 10:00:00"}})
	writeBronze(t, env, "orders", day, [][]any{{"O1", "C1", "1.00", "paid"}})
	ctx := context.Background()
	// Parent built but not validated: its staged rows do not count.
	if _, err := silver.Build(ctx, env, silver.Options{Table: "customers", Partition: day}); err != nil {
		t.Fatal(err)
	}
	rec, err := silver.Build(ctx, env, silver.Options{Table: "orders", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Reasons["fk_orphan:customer_id"] != 1 {
		t.Errorf("before the parent's gate: reasons %v, want one orphan", rec.Reasons)
	}
	// Parent validated (not yet published): its staged partition counts.
	if _, _, err := silver.Validate(ctx, env, silver.Options{Table: "customers", Partition: day}); err != nil {
		t.Fatal(err)
	}
	rec, err = silver.Build(ctx, env, silver.Options{Table: "orders", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if rec.RowsOut != 1 || rec.RowsQuarantined != 0 {
		t.Errorf("after the parent's gate: out %d quarantined %d, want 1 and 0", rec.RowsOut, rec.RowsQuarantined)
	}
}

func TestBuildWithoutBronzeIsADataError(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	_, err := silver.Build(context.Background(), env, silver.Options{Table: "customers", Partition: day})
	if fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "bronze manifest") {
		t.Fatalf("got code %d err %v", fail.Code(err), err)
	}
	for _, bad := range []string{"../x", "2026-13-45"} {
		_, err := silver.Build(context.Background(), env, silver.Options{Table: "customers", Partition: bad})
		if fail.Code(err) != fail.BadUsage {
			t.Errorf("partition %q: code %d, want 2", bad, fail.Code(err))
		}
	}
	if _, err := os.Stat(filepath.Join(env.Lake.(*lake.Local).Root(), "silver")); err == nil {
		t.Error("a failed build created silver output")
	}
}

// removeTelemetry deletes every audit and report in the lake: no task may need them.
func removeTelemetry(t *testing.T, env *tasks.Env) {
	t.Helper()
	ctx := context.Background()
	for _, prefix := range []string{"_audit/", "_reports/"} {
		objs, err := env.Lake.List(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if err := env.Lake.Delete(ctx, o.Path); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestNoTaskReadsAudits: with every audit and report deleted after each task, the
// gate still sees the build's counts, the foreign key lookup still sees the
// parent's passed gate, and publish still publishes with the quarantine split.
func TestNoTaskReadsAudits(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	writeBronze(t, env, "customers", day, [][]any{
		{"C1", "a@x.io", "2026-11-20 10:00:00"},
		{"C1", "old@x.io", "2026-11-20 09:00:00"}, // deduplicated
		{"C2", "b@x.io", "2026-11-20 10:00:00"},
		{"C3", "bad", "2026-11-20 10:00:00"}, // quarantined
	})
	writeBronze(t, env, "orders", day, [][]any{{"O1", "C1", "1.00", "paid"}, {"O2", "C9", "2.00", "paid"}})
	ctx := context.Background()
	o := silver.Options{Table: "customers", Partition: day}
	if _, err := silver.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	removeTelemetry(t, env)
	_, rep, err := silver.Validate(ctx, env, o)
	if err != nil {
		t.Fatalf("gate without the build audit: %v (%+v)", err, rep.Checks)
	}
	removeTelemetry(t, env)
	// The FK lookup sees the parent's staged partition through its verdict.
	orders, err := silver.Build(ctx, env, silver.Options{Table: "orders", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if orders.RowsOut != 1 || orders.Reasons["fk_orphan:customer_id"] != 1 {
		t.Errorf("orders after the parent's gate, without its report: out %d, reasons %v", orders.RowsOut, orders.Reasons)
	}
	removeTelemetry(t, env)
	rec, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day})
	if err != nil {
		t.Fatalf("publish without reports: %v", err)
	}
	if rec.RowsOut != 2 || rec.RowsQuarantined != 1 || rec.RowsDeduplicated != 1 {
		t.Errorf("publish audit: out %d quarantined %d deduplicated %d, want 2, 1, 1", rec.RowsOut, rec.RowsQuarantined, rec.RowsDeduplicated)
	}
	q, err := lake.ReadCommitted(ctx, env.Lake, lake.Quarantine, "customers", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	if b := q.Manifest.Build; b == nil || b.RowsIn != 4 || b.RowsQuarantined != 1 || b.RowsDeduplicated != 1 || b.Reasons["check:email"] != 1 {
		t.Errorf("committed quarantine manifest's build counts = %+v", b)
	}
}

// TestPublishRefusesARebuildItsGateDidNotJudge: the verdict covers the manifests as
// the gate saw them; a rebuild after it is not published until gated again.
func TestPublishRefusesARebuildItsGateDidNotJudge(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	writeBronze(t, env, "customers", day, [][]any{{"C1", "a@x.io", "2026-11-20 10:00:00"}})
	ctx := context.Background()
	o := silver.Options{Table: "customers", Partition: day}
	if _, err := silver.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := silver.Validate(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	writeBronze(t, env, "customers", day, [][]any{{"C1", "a@x.io", "2026-11-20 10:00:00"}, {"C2", "b@x.io", "2026-11-20 10:00:00"}})
	if _, err := silver.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	_, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day})
	if fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "changed since the silver.validate gate passed it") {
		t.Fatalf("publish of an ungated rebuild: code %d, %v", fail.Code(err), err)
	}
	if _, _, err := silver.Validate(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	if rec, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day}); err != nil || rec.RowsOut != 2 {
		t.Fatalf("publish after the gate judged the rebuild: %v, %+v", err, rec)
	}
}

// TestSandboxRefusesAnExprReadingAFile: an expr that reaches for a file outside the
// task's folders (past lint, which refuses it too) fails the build with exit 2 and
// the sandbox's words, and the file's content reaches no staged output.
func TestSandboxRefusesAnExprReadingAFile(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("s3cr3t-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	tbl, _ := env.Spec.SilverTable("customers")
	for i := range tbl.Columns {
		if tbl.Columns[i].Name == "email" {
			tbl.Columns[i].Expr = "(SELECT content FROM read_text('" + secret + "'))"
		}
	}
	writeBronze(t, env, "customers", day, [][]any{{"C1", "a@b", "2026-11-20T01:00:00"}})
	_, err := silver.Build(context.Background(), env, silver.Options{Table: "customers", Partition: day})
	if fail.Code(err) != fail.BadUsage || !strings.Contains(err.Error(), "file system operations are disabled by configuration") {
		t.Fatalf("err = %v (exit %d), want the sandbox's refusal, exit 2", err, fail.Code(err))
	}
	filepath.WalkDir(env.Lake.(*lake.Local).Root(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "s3cr3t-token") {
				t.Errorf("the secret reached %s", p)
			}
		}
		return nil
	})
}

// TestBuildRefusesABronzeFileSwappedAfterItsGate: a bronze file replaced after its
// manifest was written (same name, other rows) fails the build with exit 3 naming
// the file, and nothing is staged.
func TestBuildRefusesABronzeFileSwappedAfterItsGate(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	ctx := context.Background()
	writeBronze(t, env, "customers", day, [][]any{{"C1", "a@b", "2026-11-20T01:00:00"}})
	dir := lake.PartitionDir(lake.Bronze, "customers", env.Spec.BronzeKey(), day)
	m, _, err := lake.ReadManifest(ctx, env.Lake, dir+"/_MANIFEST.json")
	if err != nil {
		t.Fatal(err)
	}
	// The swap: other rows under the same name; the manifest is left as it was.
	writeBronze(t, env, "customers", day, [][]any{{"C666", "evil@x", "2026-11-20T01:00:00"}})
	if _, err := lake.WriteBytes(ctx, env.Lake, dir+"/_MANIFEST.json", lake.EncodeJSON(m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	_, err = silver.Build(ctx, env, silver.Options{Table: "customers", Partition: day})
	if fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "part-00000.parquet") || !strings.Contains(err.Error(), "differs from its manifest") {
		t.Fatalf("err = %v (exit %d), want exit 3 naming the swapped file", err, fail.Code(err))
	}
	if _, err := lake.ReadStaged(ctx, env.Lake, "run1", lake.Silver, "customers", "ingestion_dt", day); err == nil {
		t.Error("a build of a swapped file staged silver")
	}
}
