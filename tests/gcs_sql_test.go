package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGCSSQLReadsGoldAndStagedRuns: on a gs:// lake, `worker sql` reads gold from
// the --warehouse-path file (and without one says so, exit 2, while the lake's
// tables still read), and --run reads a failed gate's quarantine from the run's
// staging in the bucket; without --run stderr names that run.
func TestGCSSQLReadsGoldAndStagedRuns(t *testing.T) {
	emu := startGCS(t)
	tmp := t.TempDir()
	const d = "2018-04-09"
	seeds, _ := filepath.Abs("../specs/jaffle_shop/seeds")
	wh := filepath.Join(tmp, "wh.duckdb")
	jaffle := func(prefix string, extra ...string) []string {
		return append([]string{"--specs", "../specs/jaffle_shop", "--lake", emu.lakeURL(prefix), "--work-dir", filepath.Join(tmp, "work")}, extra...)
	}
	good := jaffle("good", "--warehouse-path", wh)
	for _, tbl := range []string{"customers", "orders", "payments"} {
		gcsMustRunEnv(t, emu.env(), 0, append(good, "bronze", "import", "--table", tbl, "--partition", d, filepath.Join(seeds, "raw_"+tbl+".csv"))...)
	}
	gcsMustRunEnv(t, emu.env(), 0, append(good, "--run-id", "r1", "run", "--partition", d)...)

	out, _ := gcsMustRunEnv(t, emu.env(), 0, append(good, "sql", "--format", "csv", "SELECT count(*) AS n FROM gold.orders")...)
	if out != "n\n99\n" {
		t.Errorf("gold.orders on a gs:// lake with --warehouse-path: %q, want 99 rows", out)
	}
	noPath := jaffle("good")
	_, stderr := gcsMustRunEnv(t, emu.env(), 2, append(noPath, "sql", "SELECT count(*) FROM gold.orders")...)
	if !strings.Contains(stderr, "give --warehouse-path") {
		t.Errorf("gold without --warehouse-path: stderr %q, want it to name --warehouse-path", stderr)
	}
	out, _ = gcsMustRunEnv(t, emu.env(), 0, append(noPath, "sql", "--format", "csv", "SELECT count(*) AS n FROM silver.orders")...)
	if out != "n\n99\n" {
		t.Errorf("silver.orders without --warehouse-path: %q", out)
	}

	bad := jaffle("bad")
	badCSV := filepath.Join(tmp, "bad_customers.csv")
	if err := os.WriteFile(badCSV, []byte("id,first_name,last_name\nx,Bad,Row\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gcsMustRunEnv(t, emu.env(), 0, append(bad, "bronze", "import", "--table", "customers", "--partition", d, filepath.Join(seeds, "raw_customers.csv"), badCSV)...)
	gcsMustRunEnv(t, emu.env(), 3, append(bad, "--run-id", "bad1", "run", "--partition", d, "--to", "silver")...)
	q := "SELECT id, _reject_reason FROM quarantine.customers"
	out, stderr = gcsMustRunEnv(t, emu.env(), 0, append(bad, "sql", "--format", "csv", q)...)
	if want := "note: quarantine.customers has no committed partition (run bad1 staged partition 2018-04-09: use --run bad1)"; out != "id,_reject_reason\n" || !strings.Contains(stderr, want) {
		t.Errorf("without --run: stdout %q, stderr %q; want no rows and %q", out, stderr, want)
	}
	out, _ = gcsMustRunEnv(t, emu.env(), 0, append(bad, "sql", "--format", "csv", "--run", "bad1", q)...)
	if out != "id,_reject_reason\nx,cast_failed:id\n" {
		t.Errorf("with --run bad1: %q", out)
	}
}
