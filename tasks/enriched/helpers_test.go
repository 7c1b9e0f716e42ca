package enriched_test

import (
	"context"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/catalog/catalogtest"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/specs"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/enriched"
)

// day is partition D of most tests.
const day = "2026-11-20"

func shopEnv(t *testing.T) *tasks.Env {
	t.Helper()
	sp, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatalf("load shop spec: %v", err)
	}
	return newEnv(t, sp)
}

func newEnv(t *testing.T, sp *spec.Spec) *tasks.Env {
	t.Helper()
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &tasks.Env{Spec: sp, Lake: l, Log: logx.Discard(), RunID: "run1", WorkDir: t.TempDir(),
		Duck: duck.Options{MemoryLimit: "512MB", Threads: 2}, Version: "test",
		Now: func() time.Time { return time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC) }}
}

// silver commits rows as partition d of a shop silver table.
func silver(t *testing.T, env *tasks.Env, table, d, rows string) {
	t.Helper()
	catalogtest.Silver(t, env.Lake, env.Spec, table, d, rows)
}

// dim commits rows as the snapshot of a dim as of d.
func dim(t *testing.T, env *tasks.Env, name, d, rows string) {
	t.Helper()
	catalogtest.Dim(t, env.Lake, env.Spec, name, d, rows)
}

// enrichedRows commits rows as partition d of a transform with declared columns
// (a fixture for what reads it).
func enrichedRows(t *testing.T, env *tasks.Env, transform, d, rows string) {
	t.Helper()
	tr, ok := env.Spec.Transform(transform)
	if !ok || tr.Columns == nil {
		t.Fatalf("transform %s declares no columns", transform)
	}
	var schema []lake.Field
	for _, c := range tr.Columns {
		schema = append(schema, lake.Field{Name: c.Name, Type: c.Type})
	}
	schema = append(schema, lake.Field{Name: tr.Key(), Type: "DATE"})
	catalogtest.Commit(t, env.Lake, catalogtest.Partition{Layer: lake.Enriched, Table: transform, Key: tr.Key(), Value: d}, schema, rows)
}

// buildAndValidate runs the transform for D and its gate, which must pass, and
// returns the staged partition.
func buildAndValidate(t *testing.T, env *tasks.Env, transform, d string) (*lake.Partition, *audit.Report) {
	t.Helper()
	ctx := context.Background()
	o := enriched.Options{Transform: transform, Partition: d}
	if _, err := enriched.Build(ctx, env, o); err != nil {
		t.Fatalf("build %s: %v", transform, err)
	}
	_, rep, err := enriched.Validate(ctx, env, o)
	if err != nil {
		t.Fatalf("validate %s: %v\nreport: %s", transform, err, lake.EncodeJSON(rep))
	}
	tr, _ := env.Spec.Transform(transform)
	p, err := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Enriched, transform, tr.Key(), d)
	if err != nil {
		t.Fatal(err)
	}
	return p, rep
}

// output returns q over the staged output (table t) as a text table.
func output(t *testing.T, env *tasks.Env, p *lake.Partition, q string) string {
	t.Helper()
	return catalogtest.Select(t, env.Lake, p, q)
}

// commitStaged commits what the run staged for a transform (publish does this in
// the pipeline once the gate passed).
func commitStaged(t *testing.T, env *tasks.Env, transform, d string) {
	t.Helper()
	tr, _ := env.Spec.Transform(transform)
	if _, err := lake.Commit(context.Background(), env.Lake, lake.CommitRequest{Layer: lake.Enriched, Table: transform,
		Key: tr.Key(), Value: d, RunID: env.RunID, Now: env.Clock()}); err != nil {
		t.Fatal(err)
	}
}

func check(rep *audit.Report, name string) (audit.Check, bool) {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return audit.Check{}, false
}
