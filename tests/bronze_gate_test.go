package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/lake"
)

// protectedTables are silver orders and its FK descendants: a bad bronze orders
// partition must leave what silver shows for all of them untouched.
var protectedTables = []string{"orders", "order_items", "payments", "shipments", "returns"}

// silverView is every object that decides what readers see of the protected
// tables for day: commit points of silver and quarantine, and the table pointers.
func silverView(t *testing.T, lakeDir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, layer := range []string{lake.Silver, lake.Quarantine} {
		for _, table := range protectedTables {
			for _, p := range []string{
				lake.PartitionDir(layer, table, "ingestion_dt", day) + "/" + lake.ManifestFile,
				lake.TableDir(layer, table) + "/" + lake.LatestFile,
			} {
				b, err := os.ReadFile(filepath.Join(lakeDir, filepath.FromSlash(p)))
				if err != nil {
					t.Fatalf("silver view: %v", err)
				}
				out[p] = b
			}
		}
	}
	return out
}

// failureLines are the stderr lines that are not JSON log records: the failure
// message a person reads.
func failureLines(stderr string) []string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if line != "" && !strings.HasPrefix(line, "{") {
			out = append(out, line)
		}
	}
	return out
}

// TestBadBronzeLeavesSilverAlone corrupts a committed day's bronze orders in every
// way the gate must catch: the gate fails with one clear line naming table,
// partition and cause and the documented exit code, `worker run` fails the same
// way, and silver's commit points stay byte-identical.
func TestBadBronzeLeavesSilverAlone(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base")
	mustRun(t, 0, "--lake", base, "generate", "--days", "1", "--start", day, "--scale", "0.0005", "--fault-rate", "0", "--seed", "1")
	mustRun(t, 0, "--lake", base, "--run-id", "good", "run", "--partition", day, "--to", "silver")
	db := openDuck(t)

	orders := filepath.Join("bronze", "orders", "ingest_dt="+day)
	const part = "part-00000.parquet"

	cases := []struct {
		name      string
		corrupt   func(t *testing.T, dir string) // dir: the bronze orders partition folder
		partition string
		code      int
		// cause must appear in the failure line (after the table and partition).
		cause string
		// failed are the checks the gate's report must fail, and no others.
		failed []string
	}{
		{
			name:    "missing manifest",
			corrupt: func(t *testing.T, dir string) { remove(t, filepath.Join(dir, lake.ManifestFile)) },
			code:    3, cause: `manifest bronze/orders/ingest_dt=2026-11-20/_MANIFEST\.json not found`,
			failed: []string{"manifest_exists"},
		},
		{
			name: "manifest row_count lies",
			corrupt: func(t *testing.T, dir string) {
				mp := filepath.Join(dir, lake.ManifestFile)
				m := readManifest(t, mp)
				m.RowCount += 7
				writeManifest(t, mp, m)
			},
			code: 3, cause: `row_count: manifest says 507 rows, files hold 500`,
			failed: []string{"row_count"},
		},
		{
			name: "manifest row counts lie consistently",
			corrupt: func(t *testing.T, dir string) {
				mp := filepath.Join(dir, lake.ManifestFile)
				m := readManifest(t, mp)
				m.RowCount += 7
				m.Files[0].Rows += 7
				writeManifest(t, mp, m)
			},
			code: 3, cause: `row_count: manifest says 507 rows, files hold 500`,
			failed: []string{"row_count"},
		},
		{
			name:    "listed file missing",
			corrupt: func(t *testing.T, dir string) { remove(t, filepath.Join(dir, part)) },
			code:    3, cause: `files_exist: listed file\(s\) part-00000\.parquet not found`,
			failed: []string{"files_exist"},
		},
		{
			name: "truncated parquet with a matching checksum",
			corrupt: func(t *testing.T, dir string) {
				p := filepath.Join(dir, part)
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(p, st.Size()/2); err != nil {
					t.Fatal(err)
				}
				restamp(t, filepath.Join(dir, lake.ManifestFile), part)
			},
			code: 3, cause: `files_readable: unreadable Parquet file\(s\): part-00000\.parquet`,
			failed: []string{"files_readable"},
		},
		{
			name: "missing column",
			corrupt: func(t *testing.T, dir string) {
				rewriteParquet(t, db, filepath.Join(dir, part), "* EXCLUDE (status)")
				restamp(t, filepath.Join(dir, lake.ManifestFile), part)
			},
			code: 3, cause: `schema_columns: missing column\(s\): part-00000\.parquet lacks column status`,
			failed: []string{"schema_columns"},
		},
		{
			name: "column of another type",
			corrupt: func(t *testing.T, dir string) {
				rewriteParquet(t, db, filepath.Join(dir, part), "* REPLACE (TRY_CAST(total_amount AS DOUBLE) AS total_amount)")
				restamp(t, filepath.Join(dir, lake.ManifestFile), part)
			},
			code: 3, cause: `schema_types: column\(s\) of another type: part-00000\.parquet column total_amount is DOUBLE, spec says VARCHAR`,
			failed: []string{"schema_types"},
		},
		{
			name: "partition escaping the table folder", partition: "../x",
			code: 2, cause: `"\.\./x" is not a date`,
		},
		{
			name: "partition that is no calendar day", partition: "2026-13-45",
			// lake.ParseDate says "not a calendar date" for a well-formed but impossible day.
			code: 2, cause: `"2026-13-45" is not a (calendar )?date`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lake")
			copyTree(t, base, dir)
			if tc.corrupt != nil {
				tc.corrupt(t, filepath.Join(dir, orders))
			}
			partition := day
			if tc.partition != "" {
				partition = tc.partition
			}
			before := silverView(t, dir)
			cause := regexp.MustCompile(tc.cause)

			// The gate on its own: one line naming table, partition and cause.
			_, stderr, code := runWorker(t, "--lake", dir, "--run-id", "gate", "bronze", "validate", "--table", "orders", "--partition", partition)
			if code != tc.code {
				t.Errorf("bronze validate: exit %d, want %d\nstderr:\n%s", code, tc.code, stderr)
			}
			lines := failureLines(stderr)
			if len(lines) != 1 {
				t.Errorf("bronze validate: want one failure line on stderr, got %d:\n%s", len(lines), stderr)
			} else {
				line := lines[0]
				for _, want := range []string{"orders", partition} {
					if !strings.Contains(line, want) {
						t.Errorf("bronze validate: failure line does not name %q: %s", want, line)
					}
				}
				if !cause.MatchString(line) {
					t.Errorf("bronze validate: failure line %q does not match %q", line, tc.cause)
				}
			}

			// The report fails exactly the checks that should catch the damage (a
			// restamped checksum must not be what catches a truncated file).
			if tc.failed != nil {
				rep := readReport(t, filepath.Join(dir, "_reports", "dt="+day, "gate", "bronze.validate.orders.json"))
				if got := rep.Failed(); !slices.Equal(got, tc.failed) {
					t.Errorf("bronze validate report: failed checks %v, want %v", got, tc.failed)
				}
				if rep.Status != audit.Fail {
					t.Errorf("bronze validate report: status %q, want %q", rep.Status, audit.Fail)
				}
			}

			// The whole run: the same exit code, the step named in the summary.
			stdout, stderr, code := runWorker(t, "--lake", dir, "--run-id", "bad", "run", "--partition", partition, "--to", "silver")
			if code != tc.code {
				t.Errorf("run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if lines := failureLines(stderr); len(lines) != 1 {
				t.Errorf("run: want one failure line on stderr, got %d:\n%s", len(lines), stderr)
			}
			if tc.code == 3 {
				// The summary's step names are not a contract; table, day and cause are.
				failedLine := regexp.MustCompile(`(?m)^failed: .*bronze.*orders.*` + day + `.*` + tc.cause)
				if !failedLine.MatchString(stdout) {
					t.Errorf("run: the summary does not name the failed gate and its cause %q:\n%s", tc.cause, stdout)
				}
			} else if !cause.MatchString(stderr) {
				t.Errorf("run: stderr does not match %q:\n%s", tc.cause, stderr)
			}

			after := silverView(t, dir)
			for p, b := range before {
				if !bytes.Equal(b, after[p]) {
					t.Errorf("%s changed:\nbefore: %s\nafter:  %s", p, b, after[p])
				}
			}
			// Nothing of run "bad" may have been committed for the protected tables.
			for _, table := range protectedTables {
				runDir := filepath.Join(dir, "silver", table, "ingestion_dt="+day, "run=bad")
				if _, err := os.Stat(runDir); err == nil {
					t.Errorf("%s exists: the failed run committed silver %s", runDir, table)
				}
			}
		})
	}
}

func readReport(t *testing.T, p string) *audit.Report {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read report: %v", err)
	}
	var r audit.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("parse report %s: %v", p, err)
	}
	return &r
}

func remove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}
