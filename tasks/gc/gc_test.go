package gc_test

import (
	"context"
	"os"
	"sort"
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
	"github.com/shoplake/lakehouse/tasks/gc"
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
`

const day = "2026-11-20"

// env's clock runs offset ahead of the real one (object times are real file times).
func newEnv(t *testing.T, offset *time.Duration) *tasks.Env {
	t.Helper()
	s, err := spec.Load(fstest.MapFS{"pipeline.yaml": {Data: []byte(testSpec)}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &tasks.Env{Spec: s, Lake: l, Log: logx.Discard(), Version: "test", WorkDir: t.TempDir(),
		Now: func() time.Time { return time.Now().Add(*offset) }}
}

func publishSilver(t *testing.T, env *tasks.Env, run, rows string) {
	t.Helper()
	env.RunID = run
	laketest.Stage(t, env.Lake, lake.Silver, "customers", "ingestion_dt", day, run, map[string]string{"part-00000.parquet": rows, "part-00001.parquet": "x\n"})
	laketest.Stage(t, env.Lake, lake.Quarantine, "customers", "ingestion_dt", day, run, map[string]string{"part-00000.parquet": "q\n"})
	if _, err := lake.WriteVerdict(context.Background(), env.Lake, lake.Judgement{Task: spec.TaskSilverValidate, RunID: run,
		Table: "customers", Key: "ingestion_dt", Value: day, Layers: []string{lake.Silver, lake.Quarantine}, Now: env.Clock()}); err != nil {
		t.Fatal(err)
	}
	if _, err := publish.Run(context.Background(), env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day}); err != nil {
		t.Fatal(err)
	}
}

func dirs(res lake.GCResult) string {
	var out []string
	for _, f := range res.Removed {
		out = append(out, f.Kind+" "+f.Dir)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// assertReadable checks that every commit point's files exist.
func assertReadable(t *testing.T, env *tasks.Env) {
	t.Helper()
	for _, layer := range []string{lake.Silver, lake.Quarantine} {
		p, err := lake.ReadCommitted(context.Background(), env.Lake, layer, "customers", "ingestion_dt", day)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range p.FilePaths() {
			if _, err := env.Lake.Stat(context.Background(), f); err != nil {
				t.Errorf("gc removed a referenced file: %v", err)
			}
		}
	}
}

func TestGCRemovesOnlyUnreferencedFoldersPastGrace(t *testing.T) {
	ctx := context.Background()
	var offset time.Duration
	env := newEnv(t, &offset)
	publishSilver(t, env, "r1", "a\n")
	publishSilver(t, env, "r2", "b\n")
	publishSilver(t, env, "r3", "c\n")
	env.RunID = "ops"
	// r1 becomes current again: r2 and r3 are now the unreferenced ones.
	if _, err := publish.Rollback(ctx, env, publish.RollbackOptions{Layer: lake.Silver, Table: "customers", Partition: day, To: "r1"}); err != nil {
		t.Fatal(err)
	}

	// Everything is young: nothing goes.
	res, _, err := gc.Run(ctx, env, gc.Options{Grace: 72 * time.Hour})
	if err != nil || len(res.Removed) != 0 || res.Referenced != 2 {
		t.Fatalf("young gc = %+v, %v", res, err)
	}

	offset = 100 * time.Hour
	want := strings.Join([]string{
		"run quarantine/customers/ingestion_dt=2026-11-20/run=r2",
		"run quarantine/customers/ingestion_dt=2026-11-20/run=r3",
		"run silver/customers/ingestion_dt=2026-11-20/run=r2",
		"run silver/customers/ingestion_dt=2026-11-20/run=r3",
		"staging _staging/r1",
		"staging _staging/r2",
		"staging _staging/r3",
	}, "\n")
	res, rec, err := gc.Run(ctx, env, gc.Options{Grace: 72 * time.Hour, DryRun: true})
	if err != nil || dirs(res) != want {
		t.Fatalf("dry run removes:\n%s\nwant\n%s\n(%v)", dirs(res), want, err)
	}
	if _, err := env.Lake.Stat(ctx, "silver/customers/ingestion_dt="+day+"/run=r2/part-00000.parquet"); err != nil {
		t.Fatalf("a dry run removed something: %v", err)
	}
	if _, err := lake.ReadAll(ctx, env.Lake, audit.AuditPath(rec.Partition, "ops", spec.TaskGC, "lake")); err == nil {
		t.Error("a dry run wrote an audit")
	}

	res, rec, err = gc.Run(ctx, env, gc.Options{Grace: 72 * time.Hour})
	if err != nil || dirs(res) != want || res.Referenced != 2 {
		t.Fatalf("gc removed:\n%s\nwant\n%s\n(%+v, %v)", dirs(res), want, res, err)
	}
	assertReadable(t, env)
	objs, err := env.Lake.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if strings.Contains(o.Path, "run=r2") || strings.Contains(o.Path, "run=r3") || strings.HasPrefix(o.Path, "_staging/") {
			t.Errorf("left behind: %s", o.Path)
		}
	}
	// Local lakes lose the emptied folders too.
	if loc, ok := env.Lake.(*lake.Local); ok {
		if _, err := os.Stat(loc.LocalPath("silver/customers/ingestion_dt=" + day + "/run=r2")); !os.IsNotExist(err) {
			t.Errorf("empty run folder left: %v", err)
		}
	}
	if b, err := lake.ReadAll(ctx, env.Lake, audit.AuditPath(rec.Partition, "ops", spec.TaskGC, "lake")); err != nil || !strings.Contains(string(b), "run=r2") {
		t.Errorf("gc audit: %v", err)
	}
	// A removed run can no longer be rolled back to.
	_, err = publish.Rollback(ctx, env, publish.RollbackOptions{Layer: lake.Silver, Table: "customers", Partition: day, To: "r2"})
	if fail.Code(err) != fail.BadUsage {
		t.Errorf("rollback to a collected run: %v", err)
	}
	// A second gc finds nothing.
	if res, _, err := gc.Run(ctx, env, gc.Options{Grace: 72 * time.Hour}); err != nil || len(res.Removed) != 0 {
		t.Errorf("second gc = %+v, %v", res, err)
	}
}

func TestGCStopsOnAnUnreadableCommitPoint(t *testing.T) {
	ctx := context.Background()
	offset := time.Duration(0)
	env := newEnv(t, &offset)
	publishSilver(t, env, "r1", "a\n")
	publishSilver(t, env, "r2", "b\n")
	if _, err := lake.WriteBytes(ctx, env.Lake, "silver/customers/ingestion_dt=2026-11-19/_MANIFEST.json", []byte("{not json"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	offset = 100 * time.Hour
	res, _, err := gc.Run(ctx, env, gc.Options{Grace: time.Hour})
	if err == nil || len(res.Removed) != 0 {
		t.Fatalf("gc with a broken commit point: %+v, %v", res, err)
	}
	if _, err := env.Lake.Stat(ctx, "silver/customers/ingestion_dt="+day+"/run=r1/part-00000.parquet"); err != nil {
		t.Errorf("gc removed something although it stopped: %v", err)
	}
}

// TestGCRefusesAShortGrace: below lake.MinGrace a publish in flight could lose the
// files its commit point is about to name, so gc refuses with exit 2.
func TestGCRefusesAShortGrace(t *testing.T) {
	var offset time.Duration
	env := newEnv(t, &offset)
	for _, g := range []time.Duration{-time.Hour, 0, 59 * time.Minute} {
		_, _, err := gc.Run(context.Background(), env, gc.Options{Grace: g})
		if fail.Code(err) != fail.BadUsage || !strings.Contains(err.Error(), "shorter than the minimum 1h0m0s") {
			t.Errorf("grace %s: %v (exit %d), want a usage error naming the minimum", g, err, fail.Code(err))
		}
	}
}
