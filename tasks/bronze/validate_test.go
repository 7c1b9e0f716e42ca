package bronze

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// ordersFrom is two orders in the spec's columns, to select other shapes from.
const ordersFrom = " FROM (VALUES ('o1', 'c1', 't', 'placed', '1.00', 'USD', 't'), ('o2', 'c2', 't', 'paid', '2.00', 'EUR', 't')) v(order_id, customer_id, order_ts, status, total_amount, currency, updated_at)"

func TestValidateFailures(t *testing.T) {
	part0 := path.Join(partDir("orders", day), "part-00000.parquet")
	tests := []struct {
		name string
		// since is ValidateOptions.Since
		since string
		// breaks damages the imported partition
		breaks func(t *testing.T, env testEnv)
		check  string
		// only, when set, requires check to be the only failed check
		only  bool
		wants []string
	}{
		{
			name: "missing manifest",
			breaks: func(t *testing.T, env testEnv) {
				if err := env.Lake.Delete(context.Background(), manifestPath("orders", day)); err != nil {
					t.Fatal(err)
				}
			},
			check: CheckManifestExists, only: true,
			wants: []string{"bronze orders partition " + day + ": manifest " + manifestPath("orders", day) + " not found"},
		},
		{
			name: "manifest row count mismatch",
			breaks: func(t *testing.T, env testEnv) {
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) { m.RowCount = 10 })
			},
			check: CheckRowCount, only: true,
			wants: []string{"bronze validate orders partition 2026-11-20: row_count: manifest says 10 rows, files hold 9"},
		},
		{
			name: "file rows mismatch",
			breaks: func(t *testing.T, env testEnv) {
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) { m.RowCount, m.Files[0].Rows = 8, 8 })
			},
			check: CheckRowCount, only: true,
			wants: []string{"row_count: manifest says 8 rows, files hold 9"},
		},
		{
			name: "listed file missing",
			breaks: func(t *testing.T, env testEnv) {
				if err := env.Lake.Delete(context.Background(), part0); err != nil {
					t.Fatal(err)
				}
			},
			check: CheckFilesExist, only: true,
			wants: []string{"part-00000.parquet not found"},
		},
		{
			name: "wrong checksum",
			breaks: func(t *testing.T, env testEnv) {
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) { m.Files[0].CRC32C = lake.CRC32C([]byte("other")) })
			},
			check: CheckFileChecksums, only: true,
			wants: []string{"part-00000.parquet has crc32c"},
		},
		{
			name: "wrong size",
			breaks: func(t *testing.T, env testEnv) {
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) { m.Files[0].Bytes++ })
			},
			check: CheckFileSizes, only: true,
			wants: []string{"part-00000.parquet has"},
		},
		{
			name: "truncated parquet",
			breaks: func(t *testing.T, env testEnv) {
				ctx := context.Background()
				b, err := lake.ReadAll(ctx, env.Lake, part0)
				if err != nil {
					t.Fatal(err)
				}
				b = b[:len(b)/2]
				if _, err := lake.WriteBytes(ctx, env.Lake, part0, b, lake.Precondition{}); err != nil {
					t.Fatal(err)
				}
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) {
					m.Files[0].Bytes, m.Files[0].CRC32C = int64(len(b)), lake.CRC32C(b)
				})
			},
			check: CheckFilesReadable, only: true,
			wants: []string{"files_readable: unreadable Parquet file(s): part-00000.parquet: ", "at end of file 'part-00000.parquet'"},
		},
		{
			name: "missing column",
			breaks: func(t *testing.T, env testEnv) {
				replacePart(t, env, "orders", day, "SELECT order_id, customer_id, order_ts, status, total_amount, updated_at"+ordersFrom)
			},
			check: CheckSchemaColumns, only: true,
			wants: []string{"part-00000.parquet lacks column currency"},
		},
		{
			name: "column of another type",
			breaks: func(t *testing.T, env testEnv) {
				replacePart(t, env, "orders", day, "SELECT CAST(substr(order_id, 2) AS BIGINT) AS order_id, customer_id, order_ts, status, total_amount, currency, updated_at"+ordersFrom)
			},
			check: CheckSchemaTypes, only: true,
			wants: []string{"part-00000.parquet column order_id is BIGINT, spec says VARCHAR"},
		},
		{
			// The files match the spec, but readers trusting the manifest's schema
			// (empty views, the catalog) would be misled.
			name: "manifest schema lies",
			breaks: func(t *testing.T, env testEnv) {
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) {
					m.Schema = append(m.Schema, lake.Field{Name: "coupon", Type: "VARCHAR"})
					m.Schema[0].Type = "BIGINT"
				})
			},
			check: CheckManifestSchema, only: true,
			wants: []string{"manifest_schema: the manifest's schema disagrees with its files: part-00000.parquet column order_id is VARCHAR, the manifest says BIGINT, part-00000.parquet lacks column coupon the manifest lists"},
		},
		{
			name: "empty partition",
			breaks: func(t *testing.T, env testEnv) {
				replacePart(t, env, "orders", day, "SELECT *"+ordersFrom+" WHERE false")
			},
			check: CheckNotEmpty, only: true,
			wants: []string{"not_empty: the partition holds no rows", "set allow_empty: true on bronze table orders"},
		},
		{
			name: "path escaping the folder",
			breaks: func(t *testing.T, env testEnv) {
				// A real Parquet file next to the partition folder, which must not be read.
				if _, err := env.Lake.Copy(context.Background(), part0, path.Join("bronze", "orders", "x.parquet"), lake.Precondition{}); err != nil {
					t.Fatal(err)
				}
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) {
					m.Files = append(m.Files, lake.File{Path: "../x.parquet", Rows: 9, Bytes: m.Files[0].Bytes, CRC32C: m.Files[0].CRC32C})
					m.RowCount += 9
				})
			},
			check: CheckFilesInside,
			wants: []string{"../x.parquet"},
		},
		{
			name: "absolute path",
			breaks: func(t *testing.T, env testEnv) {
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) { m.Files[0].Path = "/etc/passwd" })
			},
			check: CheckFilesInside,
			wants: []string{"/etc/passwd"},
		},
		{
			name: "manifest of another table",
			breaks: func(t *testing.T, env testEnv) {
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) { m.Table = "customers" })
			},
			check: CheckManifestParses, only: true,
			wants: []string{`table is "customers", want "orders"`},
		},
		{
			name: "manifest of another partition",
			breaks: func(t *testing.T, env testEnv) {
				rewriteManifest(t, env, manifestPath("orders", day), func(m *lake.Manifest) { m.Partition = map[string]string{"ingest_dt": "2026-11-19"} })
			},
			check: CheckManifestParses, only: true,
			wants: []string{"partition is {ingest_dt: 2026-11-19}"},
		},
		{
			name: "manifest not JSON",
			breaks: func(t *testing.T, env testEnv) {
				if _, err := lake.WriteBytes(context.Background(), env.Lake, manifestPath("orders", day), []byte("{not json"), lake.Precondition{}); err != nil {
					t.Fatal(err)
				}
			},
			check: CheckManifestParses, only: true,
			wants: []string{"not valid JSON"},
		},
		{
			name:  "coverage gap",
			since: "2026-11-17",
			breaks: func(t *testing.T, env testEnv) {
				csv := writeFile(t, "orders.csv", ordersCSV)
				mustImport(t, env, "orders", "2026-11-17", csv)
				mustImport(t, env, "orders", "2026-11-19", csv)
			},
			check: CheckCoverage, only: true,
			wants: []string{"2026-11-18"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			env := newEnv(t, shopSpec(t))
			mustImport(t, env, "orders", day, writeFile(t, "orders.csv", ordersCSV))
			tc.breaks(t, env)

			rec, rep, err := Validate(ctx, env.Env, ValidateOptions{Table: "orders", Partition: day, Since: tc.since})
			if fail.Code(err) != fail.BadData {
				t.Fatalf("exit code %d (%v), want 3", fail.Code(err), err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			mustContain(t, "error", msg, append([]string{"orders partition " + day + ": "}, tc.wants...)...)
			failed := rep.Failed()
			if !contains(failed, tc.check) {
				t.Errorf("failed checks %v, want %s among them", failed, tc.check)
			}
			if tc.only && len(failed) != 1 {
				t.Errorf("failed checks %v, want only %s", failed, tc.check)
			}
			if tc.check != CheckManifestExists {
				mustContain(t, "error", msg, "bronze validate orders partition "+day+": "+tc.check+": ")
			}

			stored := readReport(t, env, "orders", day)
			if stored.Status != audit.Fail || checkStatus(stored, tc.check) != audit.Fail {
				t.Errorf("stored report = %+v", stored)
			}
			storedRec := readAudit(t, env, spec.TaskBronzeValidate, "orders", day)
			if storedRec.Status != audit.StatusFailed || storedRec.ExitCode != fail.BadData || storedRec.Report == "" || rec.Error == "" {
				t.Errorf("stored audit = %+v", storedRec)
			}
			mustContain(t, "logs", env.logs.String(), "level=ERROR", "task=bronze.validate", "table=orders", "partition="+day)
		})
	}
}

func TestValidatePasses(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t, shopSpec(t))
	csv := writeFile(t, "orders.csv", ordersCSV)
	for _, d := range []string{"2026-11-18", "2026-11-19", day} {
		mustImport(t, env, "orders", d, csv)
	}
	before, err := env.Lake.List(ctx, "bronze/")
	if err != nil {
		t.Fatal(err)
	}

	rec, rep, err := Validate(ctx, env.Env, ValidateOptions{Table: "orders", Partition: day, Since: "2026-11-18"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{CheckManifestExists, CheckManifestParses, CheckFilesInside, CheckFilesExist, CheckFileSizes,
		CheckFileChecksums, CheckFilesReadable, CheckRowCount, CheckSchemaColumns, CheckSchemaTypes, CheckManifestSchema, CheckNotEmpty,
		CheckSchemaNewColumns, CheckCoverage}
	if len(rep.Checks) != len(want) {
		t.Errorf("report has %d checks, want %d: %+v", len(rep.Checks), len(want), rep.Checks)
	}
	for _, name := range want {
		if checkStatus(rep, name) != audit.Pass {
			t.Errorf("check %s = %q, want pass", name, checkStatus(rep, name))
		}
	}
	if rec.RowsIn != 9 || rec.Inputs[0].Rows != 9 || rec.Status != audit.StatusSuccess || rec.Report != env.Lake.URI(audit.ReportPath(day, env.RunID, spec.TaskBronzeValidate, "orders")) {
		t.Errorf("audit = %+v", rec)
	}
	mustContain(t, "logs", env.logs.String(), "level=INFO", "passed validation")

	// The gate changes nothing in bronze.
	after, err := env.Lake.List(ctx, "bronze/")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("bronze changed: %v -> %v", before, after)
	}
	for i := range after {
		if after[i].Path != before[i].Path || after[i].Generation != before[i].Generation {
			t.Errorf("bronze object %s changed", after[i].Path)
		}
	}
}

func TestValidateNewColumnWarns(t *testing.T) {
	env := newEnv(t, shopSpec(t))
	mustImport(t, env, "orders", day, writeFile(t, "orders.csv", ordersCSV))
	replacePart(t, env, "orders", day, "SELECT *, 'SPRING' AS coupon"+ordersFrom)
	_, rep, err := Validate(context.Background(), env.Env, ValidateOptions{Table: "orders", Partition: day})
	if err != nil {
		t.Fatalf("a new column must not fail the gate: %v", err)
	}
	if rep.Status != audit.Warn || checkStatus(rep, CheckSchemaNewColumns) != audit.Warn {
		t.Errorf("report = %+v", rep)
	}
	mustContain(t, "logs", env.logs.String(), "level=WARN", "check=schema_new_columns", "coupon")
}

// TestValidateAllowEmpty: a table whose spec allows quiet days passes an empty
// partition; the same partition fails the default (TestValidateFailures).
func TestValidateAllowEmpty(t *testing.T) {
	sp := shopSpec(t)
	bt, _ := sp.BronzeTable("orders")
	bt.AllowEmpty = true
	env := newEnv(t, sp)
	mustImport(t, env, "orders", day, writeFile(t, "orders.csv", ordersCSV))
	replacePart(t, env, "orders", day, "SELECT *"+ordersFrom+" WHERE false")
	_, rep, err := Validate(context.Background(), env.Env, ValidateOptions{Table: "orders", Partition: day})
	if err != nil {
		t.Fatalf("allow_empty must pass an empty partition: %v", err)
	}
	if checkStatus(rep, CheckNotEmpty) != audit.Pass {
		t.Errorf("not_empty = %q, want pass", checkStatus(rep, CheckNotEmpty))
	}
}

func TestValidateUsage(t *testing.T) {
	tests := []struct {
		name string
		opts ValidateOptions
	}{
		{"partition escaping the lake", ValidateOptions{Table: "orders", Partition: "../x"}},
		{"partition not a calendar date", ValidateOptions{Table: "orders", Partition: "2026-13-45"}},
		{"unknown table", ValidateOptions{Table: "invoices", Partition: day}},
		{"no table", ValidateOptions{Partition: day}},
		{"bad since", ValidateOptions{Table: "orders", Partition: day, Since: "yesterday"}},
		{"since after partition", ValidateOptions{Table: "orders", Partition: day, Since: "2026-11-21"}},
		{"negative wait", ValidateOptions{Table: "orders", Partition: day, Wait: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, shopSpec(t))
			_, _, err := Validate(context.Background(), env.Env, tc.opts)
			if fail.Code(err) != fail.BadUsage {
				t.Fatalf("exit code %d (%v), want 2", fail.Code(err), err)
			}
			objs, lerr := env.Lake.List(context.Background(), "")
			if lerr != nil {
				t.Fatal(lerr)
			}
			if len(objs) != 0 {
				t.Errorf("a usage error wrote %v", objs)
			}
		})
	}
}

// missingWatch is a local lake that reports each Stat of path finding nothing, so a
// test can act on the poll itself instead of on how long it took.
type missingWatch struct {
	*lake.Local
	path    string
	missing chan struct{}
	mu      sync.Mutex
	stats   int
}

func newMissingWatch(t *testing.T, p string) *missingWatch {
	t.Helper()
	l, err := lake.NewLocal(filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	return &missingWatch{Local: l, path: p, missing: make(chan struct{}, 1)}
}

func (w *missingWatch) Stat(ctx context.Context, p string) (lake.ObjectInfo, error) {
	info, err := w.Local.Stat(ctx, p)
	if p == w.path && errors.Is(err, lake.ErrNotExist) {
		w.mu.Lock()
		w.stats++
		w.mu.Unlock()
		select {
		case w.missing <- struct{}{}:
		default:
		}
	}
	return info, err
}

func (w *missingWatch) missingStats() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// The waits below are bounds that end a broken test, never assertions: each case
// asserts what happened (the poll saw no manifest, then it arrived, or the cancel).
func TestValidateWait(t *testing.T) {
	mp := manifestPath("orders", day)
	t.Run("manifest arrives", func(t *testing.T) {
		ctx := context.Background()
		watch := newMissingWatch(t, mp)
		env := newEnvOn(t, shopSpec(t), watch)
		mustImport(t, env, "orders", day, writeFile(t, "orders.csv", ordersCSV))
		b, err := lake.ReadAll(ctx, env.Lake, mp)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Lake.Delete(ctx, mp); err != nil {
			t.Fatal(err)
		}
		select { // drop a signal of the set-up
		case <-watch.missing:
		default:
		}
		done := make(chan error, 1)
		go func() {
			// The manifest lands only once validate has polled and found none.
			<-watch.missing
			_, err := lake.WriteBytes(ctx, env.Lake, mp, b, lake.Precondition{DoesNotExist: true})
			done <- err
		}()
		_, rep, err := Validate(ctx, env.Env, ValidateOptions{Table: "orders", Partition: day, Wait: time.Hour, PollInterval: 20 * time.Millisecond})
		if werr := <-done; werr != nil {
			t.Fatal(werr)
		}
		if err != nil {
			t.Fatalf("validate: %v", err)
		}
		if rep.Status != audit.Pass || checkStatus(rep, CheckManifestExists) != audit.Pass {
			t.Errorf("report = %+v", rep)
		}
	})
	t.Run("manifest does not arrive", func(t *testing.T) {
		ctx := context.Background()
		watch := newMissingWatch(t, mp)
		env := newEnvOn(t, shopSpec(t), watch)
		rec, rep, err := Validate(ctx, env.Env, ValidateOptions{Table: "orders", Partition: day, Wait: 300 * time.Millisecond, PollInterval: 20 * time.Millisecond})
		if fail.Code(err) != fail.Nothing {
			t.Fatalf("exit code %d (%v), want 4", fail.Code(err), err)
		}
		// The first look and the last one after the wait, at least.
		if n := watch.missingStats(); n < 2 {
			t.Errorf("looked for the manifest %d times, want a poll and a last look", n)
		}
		mustContain(t, "error", err.Error(), "bronze orders partition "+day+": manifest did not arrive within 300ms")
		if rep.Status != audit.StatusSkipped || rec.Status != audit.StatusSkipped || rec.ExitCode != fail.Nothing {
			t.Errorf("report %+v, audit %+v", rep, rec)
		}
		if got := readAudit(t, env, spec.TaskBronzeValidate, "orders", day); got.Status != audit.StatusSkipped {
			t.Errorf("stored audit = %+v", got)
		}
		if got := readReport(t, env, "orders", day); got.Status != audit.StatusSkipped {
			t.Errorf("stored report = %+v", got)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		watch := newMissingWatch(t, mp)
		env := newEnvOn(t, shopSpec(t), watch)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-watch.missing
			cancel()
		}()
		// Returning at all within the hour-long wait is the behaviour under test.
		_, _, err := Validate(ctx, env.Env, ValidateOptions{Table: "orders", Partition: day, Wait: time.Hour, PollInterval: 10 * time.Millisecond})
		if !errors.Is(err, context.Canceled) || fail.Code(err) != fail.Internal {
			t.Fatalf("err = %v, want the cancellation as an internal error", err)
		}
	})
}

// TestValidateTruncatedOnRemoteLake covers a truncated file on a lake without local
// paths: the download happens, DuckDB still fails on it.
func TestValidateTruncatedOnRemoteLake(t *testing.T) {
	ctx := context.Background()
	local, err := lake.NewLocal(filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnvOn(t, shopSpec(t), hiddenLake{local})
	mustImport(t, env, "orders", day, writeFile(t, "orders.csv", ordersCSV))
	p := local.LocalPath(path.Join(partDir("orders", day), "part-00000.parquet"))
	if err := os.Truncate(p, 10); err != nil {
		t.Fatal(err)
	}
	_, rep, err := Validate(ctx, env.Env, ValidateOptions{Table: "orders", Partition: day})
	if fail.Code(err) != fail.BadData || checkStatus(rep, CheckFilesReadable) != audit.Fail {
		t.Fatalf("err %v, report %+v", err, rep)
	}
}
