package tests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
)

// TestHostileInputs is issue 12's table: every break an attack found, and every
// hostile input of the trust model, run through the worker binary on a committed
// day. Each case asserts the exit code, the words of the one failure line, and that
// no commit point of the lake changed (silver, quarantine and their pointers, and
// every bronze manifest). The races, signals, faults and outages have their own
// tests (bronze import races, gc against every publish step, the fault proxy).
func TestHostileInputs(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base")
	mustRun(t, 0, "--lake", base, "generate", "--days", "1", "--start", day, "--scale", "0.0005", "--fault-rate", "0", "--seed", "3")
	mustRun(t, 0, "--lake", base, "--run-id", "good", "run", "--partition", day, "--to", "silver")
	db := openDuck(t)
	orders := filepath.Join("bronze", "orders", "ingest_dt="+day)
	next := "2026-11-21"

	// specWith copies the reference spec with one text replaced (in pipeline.yaml or a SQL file).
	specWith := func(t *testing.T, file, old, new string) string {
		dir := filepath.Join(t.TempDir(), "spec")
		copyTree(t, filepath.Join("..", "specs", "shop"), dir)
		p := filepath.Join(dir, filepath.FromSlash(file))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s does not contain %q", file, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	csvFile := func(t *testing.T, text string) string {
		p := filepath.Join(t.TempDir(), "orders.csv")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	partFile := func(t *testing.T, lakeDir string) string {
		m := readManifest(t, filepath.Join(lakeDir, orders, lake.ManifestFile))
		return filepath.Join(lakeDir, orders, filepath.FromSlash(m.Files[0].Path))
	}
	const header = "order_id,customer_id,order_ts,status,total_amount,currency,updated_at\n"
	const row = "o1,c1,2026-11-21T01:00:00Z,placed,1.00,USD,2026-11-21T01:00:00Z\n"

	cases := []struct {
		name string
		// setup damages the lake copy (or writes inputs) and returns the worker's arguments.
		setup func(t *testing.T, lakeDir string) []string
		code  int
		words []string
	}{
		{
			name: "an expr reads a file (lint)",
			setup: func(t *testing.T, lakeDir string) []string {
				s := specWith(t, "pipeline.yaml", `check: "contains(email, '@')"`, `check: "(SELECT count(*) FROM read_text('/etc/passwd')) > 0"`)
				return []string{"--specs", s, "--lake", lakeDir, "run", "--partition", day, "--to", "silver"}
			},
			code: 2, words: []string{"calls read_text(), which reads files"},
		},
		{
			name: "a transform is a COPY (lint)",
			setup: func(t *testing.T, lakeDir string) []string {
				s := specWith(t, "sql/daily_metrics.sql", "WITH ", "COPY (SELECT 1) TO '/tmp/x.csv';\nWITH ")
				return []string{"--specs", s, "--lake", lakeDir, "specs", "lint"}
			},
			code: 2, words: []string{"is not a query: it starts with COPY"},
		},
		{
			name: "a mart reads the environment (lint)",
			setup: func(t *testing.T, lakeDir string) []string {
				s := specWith(t, "sql/gold/fct_funnel.sql", "SELECT", "SELECT getenv('GOOGLE_APPLICATION_CREDENTIALS') AS leak,")
				return []string{"--specs", s, "--lake", lakeDir, "specs", "lint"}
			},
			code: 2, words: []string{"calls getenv(), which reads the pod's environment"},
		},
		{
			name: "a bronze file is a symlink out of the lake",
			setup: func(t *testing.T, lakeDir string) []string {
				p := partFile(t, lakeDir)
				outside := filepath.Join(t.TempDir(), "outside.parquet")
				if err := os.Rename(p, outside); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(outside, p); err != nil {
					t.Fatal(err)
				}
				return []string{"--lake", lakeDir, "--run-id", "bad", "run", "--partition", day, "--to", "silver"}
			},
			code: 3, words: []string{"symbolic link"},
		},
		{
			name: "a bronze file swapped after its gate",
			setup: func(t *testing.T, lakeDir string) []string {
				mustRun(t, 0, "--lake", lakeDir, "--run-id", "bad", "bronze", "validate", "--table", "orders", "--partition", day)
				rewriteParquet(t, db, partFile(t, lakeDir), "* REPLACE ('evil' AS status)")
				return []string{"--lake", lakeDir, "--run-id", "bad", "silver", "build", "--table", "orders", "--partition", day}
			},
			code: 3, words: []string{"differs from its manifest"},
		},
		{
			name: "a manifest whose schema lies",
			setup: func(t *testing.T, lakeDir string) []string {
				mp := filepath.Join(lakeDir, orders, lake.ManifestFile)
				m := readManifest(t, mp)
				m.Schema[0].Type = "BIGINT"
				writeManifest(t, mp, m)
				return []string{"--lake", lakeDir, "--run-id", "bad", "run", "--partition", day, "--to", "silver"}
			},
			code: 3, words: []string{"manifest_schema", "the manifest says BIGINT"},
		},
		{
			name: "an empty partition",
			setup: func(t *testing.T, lakeDir string) []string {
				// The rows removed, the manifest restamped to match: only emptiness is wrong.
				p := partFile(t, lakeDir)
				q := "COPY (SELECT * FROM read_parquet(" + sqlStr(p) + ", hive_partitioning = false) LIMIT 0) TO " + sqlStr(p+".empty") + " (FORMAT parquet)"
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(p+".empty", p); err != nil {
					t.Fatal(err)
				}
				mp := filepath.Join(lakeDir, orders, lake.ManifestFile)
				restamp(t, mp, filepath.Base(p))
				m := readManifest(t, mp)
				m.RowCount, m.Files[0].Rows = 0, 0
				writeManifest(t, mp, m)
				return []string{"--lake", lakeDir, "--run-id", "bad", "run", "--partition", day, "--to", "silver"}
			},
			code: 3, words: []string{"not_empty", "allow_empty"},
		},
		{
			name: "gc with a grace shorter than a publish",
			setup: func(t *testing.T, lakeDir string) []string {
				return []string{"--lake", lakeDir, "gc", "--grace", "0s"}
			},
			code: 2, words: []string{"shorter than the minimum 1h0m0s"},
		},
		{
			name: "the audit cannot be written",
			setup: func(t *testing.T, lakeDir string) []string {
				// A file where the run's audit folder goes: every audit write fails.
				if err := os.WriteFile(filepath.Join(lakeDir, "_audit", "dt="+day, "bad"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{"--lake", lakeDir, "--run-id", "bad", "bronze", "validate", "--table", "orders", "--partition", day}
			},
			code: 1, words: []string{"write audit"},
		},
		{
			name: "a CSV with a NUL byte",
			setup: func(t *testing.T, lakeDir string) []string {
				return []string{"--lake", lakeDir, "bronze", "import", "--table", "orders", "--partition", next, csvFile(t, header+"o1,c1\x00,x,placed,1.00,USD,x\n")}
			},
			code: 3, words: []string{"orders.csv:2", "NUL"},
		},
		{
			name: "a CSV with a duplicate header",
			setup: func(t *testing.T, lakeDir string) []string {
				return []string{"--lake", lakeDir, "bronze", "import", "--table", "orders", "--partition", next,
					csvFile(t, strings.Replace(header, "currency", "status", 1)+row)}
			},
			code: 3, words: []string{"orders.csv:1", "status"},
		},
		{
			name: "a CSV with an unterminated quote",
			setup: func(t *testing.T, lakeDir string) []string {
				return []string{"--lake", lakeDir, "bronze", "import", "--table", "orders", "--partition", next, csvFile(t, header+`o1,"c1,x`+"\n")}
			},
			code: 3, words: []string{"orders.csv:2", "quote"},
		},
		{
			name: "an import of other content into a committed partition",
			setup: func(t *testing.T, lakeDir string) []string {
				return []string{"--lake", lakeDir, "bronze", "import", "--table", "orders", "--partition", day, csvFile(t, header+row)}
			},
			code: 3, words: []string{"orders", day},
		},
		{
			name: "a partition value that leaves the lake",
			setup: func(t *testing.T, lakeDir string) []string {
				return []string{"--lake", lakeDir, "silver", "build", "--table", "orders", "--partition", "../../x"}
			},
			code: 2, words: []string{"../../x"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lake")
			copyTree(t, base, dir)
			args := tc.setup(t, dir)
			before := commitPoints(t, dir)
			_, stderr, code := runWorker(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tc.code, tail(stderr, 10))
			}
			msg := strings.Join(failureLines(stderr), "\n")
			for _, w := range tc.words {
				if !strings.Contains(msg, w) {
					t.Errorf("the failure does not say %q:\n%s", w, msg)
				}
			}
			after := commitPoints(t, dir)
			for p, b := range before {
				if string(after[p]) != string(b) {
					t.Errorf("commit point %s changed", p)
				}
			}
			for p := range after {
				if _, ok := before[p]; !ok {
					t.Errorf("commit point %s appeared", p)
				}
			}
		})
	}
}

// commitPoints are the commit points and table pointers a hostile input must not
// move, by path: every bronze manifest, and silver and quarantine of orders and its
// FK descendants (a `worker run` republishes the tables that do not depend on the
// damaged orders partition, as it should).
func commitPoints(t *testing.T, lakeDir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for p, b := range treeFiles(t, lakeDir) {
		segs := strings.Split(p, "/")
		if strings.HasPrefix(p, "_") || strings.Contains(p, "/run=") || len(segs) < 3 {
			continue
		}
		if segs[0] != lake.Bronze && !slices.Contains(protectedTables, segs[1]) {
			continue
		}
		if name := segs[len(segs)-1]; name == lake.ManifestFile || name == lake.LatestFile {
			out[p] = b
		}
	}
	return out
}
