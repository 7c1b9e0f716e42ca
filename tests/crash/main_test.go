// Package crash holds black-box crash-safety tests of the commit protocol: a
// publish runs in a child process (the real worker binary) that is SIGKILLed at
// every step of lake.Commit, paused there by the test-only WORKER_TEST_PAUSE_AT
// hook (tasks/publish.PauseEnv); readers must then see the old or the new
// partition, never a mix, and rerunning the publish must complete it. It also
// holds the concurrent-reader test and CLI tests of dims freshness, rollback and gc.
package crash

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks/publish"
)

// workerBin is the binary under test, built once by TestMain.
var workerBin string

// db counts rows in Parquet files for every test (database/sql pools connections).
var db *sql.DB

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "worker-crash-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workerBin = filepath.Join(dir, "worker")
	build := exec.Command("go", "build", "-o", workerBin, "../../worker")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build worker:", err)
		os.Exit(1)
	}
	db, err = sql.Open("duckdb", "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "open duckdb:", err)
		os.Exit(1)
	}
	code := m.Run()
	db.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The reference spec (embedded in the binary) names these.
const (
	day      = "2026-11-20"
	silverPK = "ingestion_dt"
)

// workerEnv is the environment of every child worker.
func workerEnv(extra ...string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WORKER_") {
			env = append(env, kv)
		}
	}
	return append(env, append([]string{"WORKER_LOG_FORMAT=json", "WORKER_THREADS=2", "WORKER_MEMORY_LIMIT=512MB"}, extra...)...)
}

// runWorker runs the binary to completion and returns stdout, stderr and the exit code.
func runWorker(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(workerBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = workerEnv(env...)
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run worker %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// paused is a worker stopped by the pause hook.
type paused struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *bytes.Buffer
}

// startPaused starts the worker with WORKER_TEST_PAUSE_AT=at and returns once it
// printed "paused at <at>" (at names a qualified step, e.g. silver:swap-commit-point).
func startPaused(t *testing.T, at string, args ...string) *paused {
	t.Helper()
	cmd := exec.Command(workerBin, args...)
	cmd.Env = workerEnv(publish.PauseEnv + "=" + at)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &paused{cmd: cmd, stdin: stdin, lines: make(chan string, 1), stderr: &bytes.Buffer{}}
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.WriteString(line + "\n") // read only after Wait
			if strings.HasPrefix(line, "paused at ") {
				p.lines <- strings.TrimPrefix(line, "paused at ")
			}
		}
		close(p.lines)
	}()
	select {
	case got, ok := <-p.lines:
		if !ok {
			cmd.Wait()
			t.Fatalf("worker %v exited without pausing at %q:\n%s", args, at, p.stderr)
		}
		if got != at {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("paused at %q, want %q", got, at)
		}
	}
	return p
}

// kill SIGKILLs the paused worker and reaps it.
func (p *paused) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

// resume lets the paused worker go on and returns its exit code and stderr.
func (p *paused) resume(t *testing.T) (int, string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, "\n"); err != nil {
		t.Fatal(err)
	}
	p.stdin.Close()
	for range p.lines {
	}
	err := p.cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, p.stderr.String()
}

// newLake makes an empty local lake.
func newLake(t *testing.T) *lake.Local {
	t.Helper()
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// customersQuery selects n silver customers rows (the reference spec's columns)
// with ids from first, emails tagged with tag.
func customersQuery(first, n int, tag, partition string) string {
	return fmt.Sprintf(`SELECT 'c' || lpad(i::VARCHAR, 5, '0') AS customer_id, 'u' || i || '-' || %s || '@x.test' AS email,
  'F' AS first_name, 'L' AS last_name, 'DE' AS country, TIMESTAMP '2026-01-01 00:00:00' AS signup_ts,
  TIMESTAMP '2026-11-01 00:00:00' + to_minutes(i) AS updated_at, DATE %s AS ingestion_dt
FROM range(%d, %d) t(i)`, duck.Str(tag), duck.Str(partition), first, first+n)
}

// stage writes one Parquet file per query as a run's staged partition, with its
// staged manifest, as a build task would; it returns the rows staged.
func stage(t *testing.T, l lake.Lake, layer, table, key, value, runID string, queries ...string) int64 {
	t.Helper()
	ctx := context.Background()
	dir := lake.StagingDir(runID, layer, table, key, value)
	m := lake.Manifest{Version: lake.ManifestVersion, Table: table, Layer: layer, Partition: map[string]string{key: value}}
	for i, q := range queries {
		local := filepath.Join(t.TempDir(), "part.parquet")
		if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", q, duck.Str(local))); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + duck.Str(local) + ")").Scan(&n); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("part-%05d.parquet", i)
		info, err := lake.Upload(ctx, l, local, path.Join(dir, name), lake.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, lake.File{Path: name, Rows: n, Bytes: info.Size, CRC32C: info.CRC32C})
		m.RowCount += n
	}
	if _, err := lake.WriteBytes(ctx, l, path.Join(dir, lake.ManifestFile), lake.EncodeJSON(&m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	return m.RowCount
}

// passReport writes a passing silver gate verdict for a run, as the gate would
// (publish reads the verdict; the report is telemetry).
func passReport(t *testing.T, l lake.Lake, runID, task, table, partition string) {
	t.Helper()
	if _, err := lake.WriteVerdict(context.Background(), l, lake.Judgement{Task: task, RunID: runID, Table: table,
		Key: silverPK, Value: partition, Layers: []string{lake.Silver, lake.Quarantine}, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// commit commits a staged partition in-process.
func commit(t *testing.T, l lake.Lake, layer, table, key, value, runID string) {
	t.Helper()
	if _, err := lake.Commit(context.Background(), l, lake.CommitRequest{Layer: layer, Table: table, Key: key,
		Value: value, RunID: runID, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// view is what a reader sees of a partition through its commit point.
type view struct {
	exists bool
	run    string
	rows   int64 // rows counted in the listed files
}

// read resolves a partition as every reader must (commit point, then the files it
// lists) and checks what it finds: every listed file exists, lies under the one
// run=<id>/ folder the manifest names, and holds the rows the manifest says.
func read(ctx context.Context, l lake.Lake, layer, table, key, value string) (view, error) {
	p, err := lake.ReadCommitted(ctx, l, layer, table, key, value)
	if errors.Is(err, lake.ErrNotExist) {
		return view{}, nil
	}
	if err != nil {
		return view{}, err
	}
	v := view{exists: true, run: p.Manifest.RunID}
	if v.run == "" {
		return v, fmt.Errorf("%s: commit point names no run", p.Dir)
	}
	var locals []string
	want := map[string]int64{}
	for i, f := range p.Manifest.Files {
		if !strings.HasPrefix(f.Path, "run="+v.run+"/") || strings.Count(f.Path, "/") != 1 {
			return v, fmt.Errorf("%s: file %s is not in the folder of run %s (a mix of runs)", p.Dir, f.Path, v.run)
		}
		fp := p.FilePaths()[i]
		info, err := l.Stat(ctx, fp)
		if err != nil {
			return v, fmt.Errorf("%s: listed file missing: %w", p.Dir, err)
		}
		if info.Size != f.Bytes || info.CRC32C != f.CRC32C {
			return v, fmt.Errorf("%s: file %s differs from its manifest entry", p.Dir, f.Path)
		}
		local := l.(lake.Localizer).LocalPath(fp)
		locals = append(locals, local)
		want[local] = f.Rows
	}
	if len(locals) == 0 {
		if p.Manifest.RowCount != 0 {
			return v, fmt.Errorf("%s: no files but row_count %d", p.Dir, p.Manifest.RowCount)
		}
		return v, nil
	}
	rows, err := db.QueryContext(ctx, "SELECT filename, count(*) FROM read_parquet("+duck.StrList(locals)+
		", hive_partitioning = false, filename = true) GROUP BY ALL")
	if err != nil {
		return v, fmt.Errorf("%s: read files: %w", p.Dir, err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		var n int64
		if err := rows.Scan(&f, &n); err != nil {
			return v, err
		}
		if n != want[f] {
			return v, fmt.Errorf("%s: %s holds %d rows, the manifest says %d", p.Dir, f, n, want[f])
		}
		v.rows += n
	}
	if err := rows.Err(); err != nil {
		return v, err
	}
	if v.rows != p.Manifest.RowCount {
		return v, fmt.Errorf("%s: files hold %d rows, row_count says %d", p.Dir, v.rows, p.Manifest.RowCount)
	}
	return v, nil
}

// copyLake copies a lake directory (without its lock files) to a fresh one.
func copyLake(t *testing.T, src string) *lake.Local {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == ".locks" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lake.NewLocal(dst)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
