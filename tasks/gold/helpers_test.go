package gold_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/gold"
)

func newEnv(t *testing.T, s *spec.Spec, runID string) *tasks.Env {
	t.Helper()
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &tasks.Env{Spec: s, Lake: l, Log: logx.Discard(), RunID: runID, WorkDir: t.TempDir(),
		Duck: duck.Options{MemoryLimit: "512MB", Threads: 2}, Version: "test",
		Now: func() time.Time { return time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC) }}
}

// openWarehouse opens the warehouse the env's tasks use; close it before the
// next task (DuckDB allows one process, and the tasks open it themselves).
func openWarehouse(t *testing.T, env *tasks.Env) warehouse.Warehouse {
	t.Helper()
	w, err := gold.Open(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// rowsOf renders a query's rows one per line: "[v1 v2 ...]".
func rowsOf(t *testing.T, w warehouse.Warehouse, q string) string {
	t.Helper()
	rows, err := w.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	lines := make([]string, len(rows.Values))
	for i, r := range rows.Values {
		lines[i] = fmt.Sprint(r)
	}
	return strings.Join(lines, "\n")
}
