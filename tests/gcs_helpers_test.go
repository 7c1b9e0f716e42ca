package tests

// Helpers for the black-box tests of the GCS lake (gcs_*_test.go): an in-process
// GCS emulator per test (internal/lake/gcstest), the worker binary run as a child
// process that reaches it through STORAGE_EMULATOR_HOST, and a storage client of
// the test's own to look at the bucket.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/gcstest"
)

// gcsNow pins the worker's clock in the GCS tests, so two lakes built from the
// same data take the same freshness decisions (dims max_age).
const gcsNow = "2026-11-22T03:00:00Z"

// gcsEmu is one emulator with one fresh bucket, and a client for the test.
type gcsEmu struct {
	endpoint string // host:port, STORAGE_EMULATOR_HOST
	bucket   string
	client   *storage.Client
	bkt      *storage.BucketHandle
}

// startGCS starts an emulator for the test and a storage client pointed at it.
func startGCS(t *testing.T) *gcsEmu {
	t.Helper()
	endpoint, bucket, _ := gcstest.Start(t)
	client, err := storage.NewClient(context.Background(),
		option.WithEndpoint("http://"+endpoint+"/storage/v1/"),
		option.WithoutAuthentication(),
		storage.WithJSONReads())
	if err != nil {
		t.Fatalf("storage client for the emulator: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return &gcsEmu{endpoint: endpoint, bucket: bucket, client: client, bkt: client.Bucket(bucket)}
}

// lakeURL is the gs:// URL of a lake under prefix in the emulator's bucket.
func (e *gcsEmu) lakeURL(prefix string) string { return "gs://" + e.bucket + "/" + prefix }

// env is what a worker process needs to reach the emulator.
func (e *gcsEmu) env() []string { return []string{"STORAGE_EMULATOR_HOST=" + e.endpoint} }

// gcsObject is one object of the bucket as a listing reports it.
type gcsObject struct {
	name       string
	generation int64
}

// list returns every object whose name starts with prefix, sorted by name.
func (e *gcsEmu) list(ctx context.Context, prefix string) ([]gcsObject, error) {
	var out []gcsObject
	it := e.bkt.Objects(ctx, &storage.Query{Prefix: prefix})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, gcsObject{name: a.Name, generation: a.Generation})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// mustList is list for the test goroutine.
func (e *gcsEmu) mustList(t *testing.T, prefix string) []gcsObject {
	t.Helper()
	objs, err := e.list(context.Background(), prefix)
	if err != nil {
		t.Fatalf("list gs://%s/%s: %v", e.bucket, prefix, err)
	}
	return objs
}

// read returns an object's bytes and the generation that was read.
func (e *gcsEmu) read(ctx context.Context, name string) ([]byte, int64, error) {
	r, err := e.bkt.Object(name).NewReader(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return b, r.Attrs.Generation, err
}

// mustRead is read for the test goroutine.
func (e *gcsEmu) mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, _, err := e.read(context.Background(), name)
	if err != nil {
		t.Fatalf("read gs://%s/%s: %v", e.bucket, name, err)
	}
	return b
}

// gcsWorkerCmd prepares the worker binary with the tests' usual environment plus env.
func gcsWorkerCmd(env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	return gcsWorkerCmdContext(context.Background(), env, args...)
}

// gcsWorkerCmdContext is gcsWorkerCmd with a context that kills the process.
func gcsWorkerCmdContext(ctx context.Context, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, workerBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "WORKER_LOG_FORMAT=json", "WORKER_THREADS=2", "WORKER_MEMORY_LIMIT=1GB")
	cmd.Env = append(cmd.Env, env...)
	return cmd, &out, &errb
}

// gcsExitCode turns cmd.Run/Wait's error into an exit code.
func gcsExitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode()
	case err != nil:
		t.Fatalf("run worker: %v", err)
	}
	return 0
}

// gcsRunWorkerEnv is runWorker with extra environment variables.
func gcsRunWorkerEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd, out, errb := gcsWorkerCmd(env, args...)
	code := gcsExitCode(t, cmd.Run())
	return out.String(), errb.String(), code
}

// gcsMustRunEnv runs the worker with extra environment and fails unless it exits with want.
func gcsMustRunEnv(t *testing.T, env []string, want int, args ...string) (string, string) {
	t.Helper()
	stdout, stderr, code := gcsRunWorkerEnv(t, env, args...)
	if code != want {
		t.Fatalf("worker %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, gcsTail(stderr, 40))
	}
	return stdout, stderr
}

// gcsTail keeps the last n lines of s.
func gcsTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// gcsCommitPointPattern matches a partition commit point, relative to the lake root:
// <layer>/<table>/<key>=<value>/_MANIFEST.json (not a run's own manifest, which
// sits one folder deeper, under run=<id>/).
var gcsCommitPointPattern = regexp.MustCompile(`^(silver|quarantine|dims|enriched)/[^/]+/[^/=]+=[^/]+/` + regexp.QuoteMeta(lake.ManifestFile) + `$`)

// gcsCommitPoints lists the commit points of the lake under prefix in the bucket,
// as lake-relative paths.
func (e *gcsEmu) commitPoints(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	for _, o := range e.mustList(t, prefix+"/") {
		rel := strings.TrimPrefix(o.name, prefix+"/")
		if gcsCommitPointPattern.MatchString(rel) {
			out = append(out, rel)
		}
	}
	return out
}

// gcsLocalCommitPoints lists the commit points of a local lake, as lake-relative paths.
func gcsLocalCommitPoints(t *testing.T, lakeDir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(lakeDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(lakeDir, p)
		if rel = filepath.ToSlash(rel); gcsCommitPointPattern.MatchString(rel) {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", lakeDir, err)
	}
	sort.Strings(out)
	return out
}

// gcsParseManifest decodes a manifest.
func gcsParseManifest(t *testing.T, where string, b []byte) *lake.Manifest {
	t.Helper()
	var m lake.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("parse %s: %v", where, err)
	}
	return &m
}

// gcsRowsChecksum is the row count and md5 of the sorted rows of the Parquet files
// (without the columns in exclude): the content of a partition, independent of
// file layout and row order.
func gcsRowsChecksum(t *testing.T, db *sql.DB, files []string, exclude ...string) (int64, string) {
	t.Helper()
	if len(files) == 0 {
		return 0, ""
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = sqlStr(f)
	}
	cols := "*"
	if len(exclude) > 0 {
		cols = "* EXCLUDE (" + strings.Join(exclude, ", ") + ")"
	}
	q := "SELECT count(*), coalesce(md5(string_agg(r::VARCHAR, chr(10) ORDER BY r::VARCHAR)), '') FROM (SELECT " + cols +
		" FROM read_parquet([" + strings.Join(quoted, ", ") + "], hive_partitioning = false)) AS r"
	var n int64
	var sum string
	if err := db.QueryRow(q).Scan(&n, &sum); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n, sum
}

// gcsTableChecksum is the row count and md5 of the sorted rows of a warehouse table.
func gcsTableChecksum(t *testing.T, db *sql.DB, qualified string) (int64, string) {
	t.Helper()
	q := "SELECT count(*), coalesce(md5(string_agg(r::VARCHAR, chr(10) ORDER BY r::VARCHAR)), '') FROM " + qualified + " AS r"
	var n int64
	var sum string
	if err := db.QueryRow(q).Scan(&n, &sum); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n, sum
}

// gcsRunFolder is the run=<id> segment of a manifest-relative file path, or "".
func gcsRunFolder(p string) string {
	first, _, ok := strings.Cut(p, "/")
	if !ok || !strings.HasPrefix(first, "run=") {
		return ""
	}
	return strings.TrimPrefix(first, "run=")
}

// gcsObjectName joins a lake prefix and a lake path into an object name.
func gcsObjectName(prefix, p string) string { return path.Join(prefix, p) }

// beforeTestDeadline bounds a child process by go test's own -timeout (less a grace
// to report it), never by a guess of how long it should take.
func beforeTestDeadline(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	if d, ok := t.Deadline(); ok {
		return context.WithDeadline(context.Background(), d.Add(-10*time.Second))
	}
	return context.WithCancel(context.Background())
}
