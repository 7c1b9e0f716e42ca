package bronze

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/specs"
	"github.com/shoplake/lakehouse/tasks"
)

const day = "2026-11-20"

// ordersHeader is the shop spec's bronze orders columns.
const ordersHeader = "order_id,customer_id,order_ts,status,total_amount,currency,updated_at\n"

// ordersCSV holds 9 orders; o3 has an empty currency.
const ordersCSV = ordersHeader +
	"o1,c1,2026-11-20T01:00:00Z,placed,10.50,USD,2026-11-20T01:00:00Z\n" +
	"o2,c2,2026-11-20T02:00:00Z,paid,20.00,EUR,2026-11-20T02:00:00Z\n" +
	"o3,c1,2026-11-20T03:00:00Z,shipped,5.25,,2026-11-20T03:00:00Z\n" +
	"o4,c3,2026-11-20T04:00:00Z,placed,7,GBP,2026-11-20T04:00:00Z\n" +
	"o5,c4,2026-11-20T05:00:00Z,cancelled,0,USD,2026-11-20T05:00:00Z\n" +
	"o6,c2,2026-11-20T06:00:00Z,paid,99.99,USD,2026-11-20T06:00:00Z\n" +
	"o7,c5,2026-11-20T07:00:00Z,placed,1.00,USD,2026-11-20T07:00:00Z\n" +
	"o8,c5,2026-11-20T08:00:00Z,delivered,3.10,EUR,2026-11-20T08:00:00Z\n" +
	"o9,c6,2026-11-20T09:00:00Z,placed,12.00,USD,2026-11-20T09:00:00Z\n"

// testEnv is a task environment over a fresh local lake; logs go to the test's
// output and to logs.
type testEnv struct {
	*tasks.Env
	logs *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEnv(t *testing.T, sp *spec.Spec) testEnv {
	t.Helper()
	l, err := lake.NewLocal(filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, sp, l)
}

func newEnvOn(t *testing.T, sp *spec.Spec, l lake.Lake) testEnv {
	t.Helper()
	logs := &syncBuffer{}
	var mu sync.Mutex
	now := time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC)
	env := &tasks.Env{
		Spec:  sp,
		Lake:  l,
		Log:   slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), nil)),
		RunID: "test-run",
		// The clock moves a second per reading, so a rewritten manifest would show.
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(time.Second)
			return now
		},
		Duck:    duck.Options{MemoryLimit: "512MB", Threads: 2},
		WorkDir: t.TempDir(),
		Version: "test",
	}
	return testEnv{Env: env, logs: logs}
}

func shopSpec(t *testing.T) *spec.Spec {
	t.Helper()
	sp, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// inlineSpec loads a spec from YAML text.
func inlineSpec(t *testing.T, yaml string) *spec.Spec {
	t.Helper()
	sp, err := spec.Load(fstest.MapFS{spec.PipelineFile: {Data: []byte(yaml)}}, "testdata/inline")
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func partDir(table, d string) string { return lake.PartitionDir(lake.Bronze, table, "ingest_dt", d) }

func manifestPath(table, d string) string { return path.Join(partDir(table, d), lake.ManifestFile) }

// mustImport imports files into bronze orders (or another table) and fails the test on error.
func mustImport(t *testing.T, env testEnv, table, d string, files ...string) *audit.Record {
	t.Helper()
	rec, err := Import(context.Background(), env.Env, ImportOptions{Table: table, Partition: d, Files: files})
	if err != nil {
		t.Fatalf("import %s %s: %v", table, d, err)
	}
	return rec
}

// importedPart is the lake path of the i-th file an import wrote into a partition
// (its name carries the import's id, so it is read from the manifest).
func importedPart(t *testing.T, env testEnv, table, d string, i int) string {
	t.Helper()
	m := readManifestRaw(t, env, manifestPath(table, d))
	if i >= len(m.Files) {
		t.Fatalf("%s lists %d files, want a file %d", manifestPath(table, d), len(m.Files), i)
	}
	return path.Join(partDir(table, d), m.Files[i].Path)
}

// localPart is importedPart's local path on a local lake.
func localPart(t *testing.T, env testEnv, table, d string, i int) string {
	t.Helper()
	return env.Lake.(lake.Localizer).LocalPath(importedPart(t, env, table, d, i))
}

// readManifestRaw reads a manifest without validating it.
func readManifestRaw(t *testing.T, env testEnv, p string) *lake.Manifest {
	t.Helper()
	b, err := lake.ReadAll(context.Background(), env.Lake, p)
	if err != nil {
		t.Fatal(err)
	}
	var m lake.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func rewriteManifest(t *testing.T, env testEnv, p string, edit func(m *lake.Manifest)) {
	t.Helper()
	m := readManifestRaw(t, env, p)
	edit(m)
	if _, err := lake.WriteBytes(context.Background(), env.Lake, p, lake.EncodeJSON(m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
}

// queryOne runs a query returning one value against a fresh DuckDB.
func queryOne(t *testing.T, q string) any {
	t.Helper()
	ctx := context.Background()
	s, err := duck.Open(ctx, duck.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v any
	if err := s.Conn.QueryRowContext(ctx, q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// writeParquet writes the rows of a SELECT as a local Parquet file.
func writeParquet(t *testing.T, query string) string {
	t.Helper()
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "data.parquet")
	s, err := duck.Open(ctx, duck.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Exec(ctx, "COPY ("+query+") TO "+duck.Str(out)+" (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	return out
}

// replacePart replaces a partition's files with part-00000.parquet holding the
// rows of query and updates the manifest to match, so only what the new rows hold
// can fail a check.
func replacePart(t *testing.T, env testEnv, table, d, query string) {
	t.Helper()
	ctx := context.Background()
	local := writeParquet(t, query)
	b, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	rows := queryOne(t, "SELECT count(*) FROM read_parquet("+duck.Str(local)+")").(int64)
	p := path.Join(partDir(table, d), "part-00000.parquet")
	if _, err := lake.WriteBytes(ctx, env.Lake, p, b, lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	rewriteManifest(t, env, manifestPath(table, d), func(m *lake.Manifest) {
		m.Files = []lake.File{{Path: "part-00000.parquet", Rows: rows, Bytes: int64(len(b)), CRC32C: lake.CRC32C(b)}}
		m.RowCount = rows
	})
}

// readAudit reads an audit record the task wrote.
func readAudit(t *testing.T, env testEnv, task, table, d string) *audit.Record {
	t.Helper()
	b, err := lake.ReadAll(context.Background(), env.Lake, audit.AuditPath(d, env.RunID, task, table))
	if err != nil {
		t.Fatal(err)
	}
	var r audit.Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func readReport(t *testing.T, env testEnv, table, d string) *audit.Report {
	t.Helper()
	b, err := lake.ReadAll(context.Background(), env.Lake, audit.ReportPath(d, env.RunID, spec.TaskBronzeValidate, table))
	if err != nil {
		t.Fatal(err)
	}
	var r audit.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func checkStatus(rep *audit.Report, name string) string {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

// hiddenLake hides the local lake's Localizer, standing in for a remote (GCS) lake.
type hiddenLake struct{ lake.Lake }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s %q does not contain %q", what, got, w)
		}
	}
}
