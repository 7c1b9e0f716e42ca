package publish_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/laketest"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/publish"
)

const testSpec = `pipeline: t
bronze:
  tables:
    - name: customers
      columns:
        - {name: customer_id, type: VARCHAR}
base_silver:
  tables:
    - name: customers
      source: customers
      primary_key: [customer_id]
      columns:
        - {name: customer_id, type: VARCHAR, not_null: true}
dims:
  - {name: customers, source: customers, max_age: 24h}
enriched:
  transforms:
    - name: ltv
      sql: sql/ltv.sql
      partition_key: order_dt
      depends_on: [silver.customers]
`

const day = "2026-11-20"

func newEnv(t *testing.T) *tasks.Env {
	t.Helper()
	s, err := spec.Load(fstest.MapFS{
		"pipeline.yaml": {Data: []byte(testSpec)},
		"sql/ltv.sql":   {Data: []byte("SELECT customer_id FROM silver.customers")},
	}, "test")
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &tasks.Env{Spec: s, Lake: l, Log: logx.Discard(), Version: "test", WorkDir: t.TempDir(),
		Now: func() time.Time { return time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC) }}
}

// writeVerdict writes the verdict a gate would: passed, or failed on a check.
func writeVerdict(t *testing.T, env *tasks.Env, task, table, key string, passed bool, layers ...string) {
	t.Helper()
	j := lake.Judgement{Task: task, RunID: env.RunID, Table: table, Key: key, Value: day, Layers: layers, Now: env.Clock()}
	if !passed {
		j.FailedChecks = []string{"row_count"}
	}
	if _, err := lake.WriteVerdict(context.Background(), env.Lake, j); err != nil {
		t.Fatal(err)
	}
}

// publishSilver stages silver + quarantine for run and publishes them.
func publishSilver(t *testing.T, env *tasks.Env, run, rows string) {
	t.Helper()
	env.RunID = run
	laketest.Stage(t, env.Lake, lake.Silver, "customers", "ingestion_dt", day, run, map[string]string{"part-00000.parquet": rows})
	laketest.Stage(t, env.Lake, lake.Quarantine, "customers", "ingestion_dt", day, run, map[string]string{"part-00000.parquet": "q-" + run + "\n"})
	writeVerdict(t, env, spec.TaskSilverValidate, "customers", "ingestion_dt", true, lake.Silver, lake.Quarantine)
	if _, err := publish.Run(context.Background(), env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day}); err != nil {
		t.Fatalf("publish %s: %v", run, err)
	}
}

func commitPoint(t *testing.T, env *tasks.Env, layer, table, key string) *lake.Manifest {
	t.Helper()
	p, err := lake.ReadCommitted(context.Background(), env.Lake, layer, table, key, day)
	if err != nil {
		t.Fatal(err)
	}
	return p.Manifest
}

func TestPublishEnrichedUsesTransformKeyAndGate(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	env.RunID = "e1"
	laketest.Stage(t, env.Lake, lake.Enriched, "ltv", "order_dt", day, "e1", map[string]string{"part-00000.parquet": "a\nb\n"})
	o := publish.Options{Layer: lake.Enriched, Table: "ltv", Partition: day}
	if _, err := publish.Run(ctx, env, o); fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "enriched.validate") {
		t.Fatalf("publish without a gate report: %v", err)
	}
	writeVerdict(t, env, spec.TaskEnrichedValidate, "ltv", "order_dt", false, lake.Enriched)
	if _, err := publish.Run(ctx, env, o); fail.Code(err) != fail.BadData {
		t.Fatalf("publish after a failed gate: %v", err)
	}
	writeVerdict(t, env, spec.TaskEnrichedValidate, "ltv", "order_dt", true, lake.Enriched)
	rec, err := publish.Run(ctx, env, o)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Task != "publish.enriched" || rec.RowsOut != 2 {
		t.Errorf("audit = %+v", rec)
	}
	if m := commitPoint(t, env, lake.Enriched, "ltv", "order_dt"); m.RunID != "e1" || m.Files[0].Path != "run=e1/part-00000.parquet" {
		t.Errorf("commit point = %+v", m)
	}
	// Publishing the committed run again is a no-op.
	if _, err := publish.Run(ctx, env, o); err != nil {
		t.Errorf("republish: %v", err)
	}
	for _, bad := range []publish.Options{{Layer: lake.Enriched, Table: "nope", Partition: day}, {Layer: "gold", Table: "x", Partition: day}} {
		if _, err := publish.Run(ctx, env, bad); fail.Code(err) != fail.BadUsage {
			t.Errorf("publish %+v: code %d, want 2", bad, fail.Code(err))
		}
	}
}

func TestRollbackSilverAndQuarantine(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	publishSilver(t, env, "r1", "a\nb\n")
	publishSilver(t, env, "r2", "c\n")
	if m := commitPoint(t, env, lake.Silver, "customers", "ingestion_dt"); m.RunID != "r2" {
		t.Fatalf("before rollback: %s", m.RunID)
	}

	env.RunID = "ops1"
	o := publish.RollbackOptions{Layer: lake.Silver, Table: "customers", Partition: day, To: "r1"}
	rec, err := publish.Rollback(ctx, env, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, layer := range []string{lake.Silver, lake.Quarantine} {
		m := commitPoint(t, env, layer, "customers", "ingestion_dt")
		if m.RunID != "r1" || m.RolledBackFrom != "r2" || m.RolledBackAt == "" || m.Files[0].Path != "run=r1/part-00000.parquet" {
			t.Errorf("%s commit point after rollback = %+v", layer, m)
		}
	}
	if rec.Task != spec.TaskRollback || rec.RowsOut != 2 || rec.RowsQuarantined != 1 || rec.Status != audit.StatusSuccess {
		t.Errorf("rollback audit = %+v", rec)
	}
	if _, err := lake.ReadAll(ctx, env.Lake, audit.AuditPath(day, "ops1", "rollback", "customers")); err != nil {
		t.Errorf("rollback audit not in the lake: %v", err)
	}
	ptr, _, err := lake.ReadPointer(ctx, env.Lake, "silver/customers/_latest.json")
	if err != nil || ptr.RunID != "r1" {
		t.Errorf("pointer after rollback = %+v, %v", ptr, err)
	}
	// Again: a no-op. Then forward again to r2.
	if _, err := publish.Rollback(ctx, env, o); err != nil {
		t.Errorf("repeated rollback: %v", err)
	}
	o.To = "r2"
	if _, err := publish.Rollback(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	if m := commitPoint(t, env, lake.Silver, "customers", "ingestion_dt"); m.RunID != "r2" || m.RolledBackFrom != "r1" {
		t.Errorf("roll forward = %+v", m)
	}

	// An unknown run is a bad --to (2); nothing moves.
	o.To = "r9"
	if _, err := publish.Rollback(ctx, env, o); fail.Code(err) != fail.BadUsage || !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("rollback to an unknown run: code %d, %v", fail.Code(err), err)
	}
	// A run whose quarantine file changed is refused before either commit point moves (3).
	if _, err := lake.WriteBytes(ctx, env.Lake, "quarantine/customers/ingestion_dt="+day+"/run=r1/part-00000.parquet",
		[]byte("tampered\n"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	o.To = "r1"
	if _, err := publish.Rollback(ctx, env, o); fail.Code(err) != fail.BadData || !errors.Is(err, lake.ErrCorrupt) {
		t.Errorf("rollback to a corrupt run: code %d, %v", fail.Code(err), err)
	}
	if m := commitPoint(t, env, lake.Silver, "customers", "ingestion_dt"); m.RunID != "r2" {
		t.Errorf("a refused rollback moved silver to %s", m.RunID)
	}
	if _, err := publish.Rollback(ctx, env, publish.RollbackOptions{Layer: lake.Silver, Table: "customers", Partition: day, To: "../x"}); fail.Code(err) != fail.BadUsage {
		t.Errorf("bad run id: %v", err)
	}
}

func TestPauseHook(t *testing.T) {
	if publish.PauseHook("", nil, nil) != nil {
		t.Fatal("the hook must be nil (do nothing) when the variable is unset")
	}
	var out bytes.Buffer
	resumed := make(chan struct{})
	step := publish.PauseHook("read-commit-point#2", strings.NewReader("\n"), &out)
	go func() {
		for _, s := range []string{"quarantine:read-staged", "quarantine:read-commit-point", "silver:read-commit-point", "silver:done"} {
			step(s)
		}
		close(resumed)
	}()
	// A hook that never resumes hangs here until go test -timeout names it.
	<-resumed
	want := "step quarantine:read-staged\nstep quarantine:read-commit-point\nstep silver:read-commit-point\npaused at silver:read-commit-point\nstep silver:done\n"
	if out.String() != want {
		t.Errorf("hook output =\n%s\nwant\n%s", out.String(), want)
	}
}

// TestPublishNeedsAVerdict: without its gate's verdict a publish refuses (exit 3),
// saying which verdict it looked for; an unreadable verdict is an infrastructure
// error (exit 1); once committed, a republish after gc cleaned the staging (and so
// the verdict) is still a no-op.
func TestPublishNeedsAVerdict(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	env.RunID = "r1"
	laketest.Stage(t, env.Lake, lake.Silver, "customers", "ingestion_dt", day, "r1", map[string]string{"part-00000.parquet": "a\n"})
	laketest.Stage(t, env.Lake, lake.Quarantine, "customers", "ingestion_dt", day, "r1", map[string]string{"part-00000.parquet": "q\n"})
	o := publish.Options{Layer: lake.Silver, Table: "customers", Partition: day}
	_, err := publish.Run(ctx, env, o)
	want := "publish silver customers partition " + day + ": no silver.validate verdict for run r1 at _staging/r1/silver/customers/ingestion_dt=" +
		day + "/_VERDICT.json (run the gate first); nothing published"
	if fail.Code(err) != fail.BadData || err.Error() != want {
		t.Fatalf("publish without a verdict: code %d, %v\nwant %s", fail.Code(err), err, want)
	}
	for _, layer := range []string{lake.Quarantine, lake.Silver} {
		if _, err := lake.ReadCommitted(ctx, env.Lake, layer, "customers", "ingestion_dt", day); !errors.Is(err, lake.ErrNotExist) {
			t.Errorf("a refused publish committed %s: %v", layer, err)
		}
	}
	if _, err := lake.WriteBytes(ctx, env.Lake, lake.VerdictPath("r1", lake.Silver, "customers", "ingestion_dt", day), []byte("{"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := publish.Run(ctx, env, o); fail.Code(err) != fail.Internal || !strings.Contains(err.Error(), "parse verdict") {
		t.Fatalf("publish with an unreadable verdict: code %d, %v", fail.Code(err), err)
	}
	writeVerdict(t, env, spec.TaskSilverValidate, "customers", "ingestion_dt", true, lake.Silver, lake.Quarantine)
	if _, err := publish.Run(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	objs, err := env.Lake.List(ctx, "_staging/")
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if err := env.Lake.Delete(ctx, obj.Path); err != nil {
			t.Fatal(err)
		}
	}
	if rec, err := publish.Run(ctx, env, o); err != nil || rec.RowsOut != 1 {
		t.Errorf("republish after the staging was cleaned: %v, %+v", err, rec)
	}
}

// TestPublishAuditsBytesNotCopied: a silver publish on a local lake hard-links the
// staged files of both layers into their run folders, and its audit (in the lake)
// says so: every byte placed, none copied.
func TestPublishAuditsBytesNotCopied(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	env.RunID = "r1"
	laketest.Stage(t, env.Lake, lake.Silver, "customers", "ingestion_dt", day, "r1", map[string]string{"part-00000.parquet": "a\nb\n"})
	laketest.Stage(t, env.Lake, lake.Quarantine, "customers", "ingestion_dt", day, "r1", map[string]string{"part-00000.parquet": "q\n"})
	writeVerdict(t, env, spec.TaskSilverValidate, "customers", "ingestion_dt", true, lake.Silver, lake.Quarantine)
	if _, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day}); err != nil {
		t.Fatal(err)
	}
	b, err := lake.ReadAll(ctx, env.Lake, audit.AuditPath(day, "r1", spec.PublishAuditTask(lake.Silver), "customers"))
	if err != nil {
		t.Fatal(err)
	}
	var rec audit.Record
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	want := audit.Placement{Files: 2, Bytes: 6, BytesNotCopied: 6, ByMethod: map[string]int{"link": 2}}
	if rec.Published == nil || !reflect.DeepEqual(*rec.Published, want) {
		t.Errorf("published = %+v, want %+v", rec.Published, want)
	}
}
