package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks"
)

// TestStage: a staged output is one zstd Parquet file listed by its manifest, the
// row count is checked against the build's, and staging it again gives the same bytes.
func TestStage(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t, false)
	dir := "_staging/r1/silver/orders/order_date=2026-11-20"
	out := tasks.Output{Query: "SELECT range AS id, 'x' || range AS name FROM range(100)", Dir: dir, Rows: 100,
		Manifest: lake.Manifest{Version: lake.ManifestVersion, Table: "orders", Layer: lake.Silver,
			Partition: map[string]string{"order_date": "2026-11-20"}}}
	var sums []string
	for range 2 {
		sc, err := env.OpenScratch(ctx, "stage-test-")
		if err != nil {
			t.Fatal(err)
		}
		m, mp, err := sc.Stage(ctx, env.Lake, out)
		if err != nil {
			t.Fatal(err)
		}
		if mp != dir+"/"+lake.ManifestFile || m.RowCount != 100 || len(m.Files) != 1 || m.Files[0].Rows != 100 {
			t.Fatalf("manifest %s: %+v", mp, m)
		}
		part, err := lake.ReadStaged(ctx, env.Lake, "r1", lake.Silver, "orders", "order_date", "2026-11-20")
		if err != nil {
			t.Fatal(err)
		}
		locals, err := lake.Localize(ctx, env.Lake, part.FilePaths(), sc.Dir)
		if err != nil {
			t.Fatal(err)
		}
		n, err := sc.Session.Int(ctx, "SELECT count(*) FROM parquet_metadata("+duck.Str(locals[0])+") WHERE compression <> 'ZSTD'")
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d column chunks are not zstd", n)
		}
		sums = append(sums, m.Files[0].CRC32C)
		sc.Close()
	}
	if sums[0] != sums[1] {
		t.Errorf("staging twice gave crc32c %s and %s", sums[0], sums[1])
	}

	sc, err := env.OpenScratch(ctx, "stage-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	out.Rows = 99
	if _, _, err := sc.Stage(ctx, env.Lake, out); err == nil || !strings.Contains(err.Error(), "counted 99") {
		t.Errorf("a row count that differs from the build's was not refused: %v", err)
	}
}

// TestScratchSandbox: a task's session reads and writes its scratch folder and a
// local lake's files, and nothing else, and SQL cannot lift the lock.
func TestScratchSandbox(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t, false)
	outside := t.TempDir()
	secret := filepath.Join(outside, "key.json")
	if err := os.WriteFile(secret, []byte(`{"private_key": "s3cr3t"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := lake.WriteBytes(ctx, env.Lake, "silver/t/x.csv", []byte("a\n1\n"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	sc, err := env.OpenScratch(ctx, "sandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	inLake := env.Lake.(lake.Localizer).LocalPath("silver/t/x.csv")
	for _, q := range []string{
		"COPY (SELECT 1 AS a) TO " + duck.Str(filepath.Join(sc.Dir, "a.parquet")) + " (FORMAT parquet)",
		"SELECT * FROM read_parquet(" + duck.Str(filepath.Join(sc.Dir, "a.parquet")) + ")",
		"SELECT * FROM read_csv(" + duck.Str(inLake) + ")",
	} {
		if err := sc.Session.Exec(ctx, q); err != nil {
			t.Errorf("%s: %v, want allowed", q, err)
		}
	}
	for _, q := range []string{
		"SELECT content FROM read_text(" + duck.Str(secret) + ")",
		"SELECT * FROM read_text('/etc/passwd')",
		"SELECT * FROM glob(" + duck.Str(outside+"/*") + ")",
		"COPY (SELECT 1) TO " + duck.Str(filepath.Join(outside, "leak.csv")),
		"ATTACH " + duck.Str(filepath.Join(outside, "x.duckdb")) + " AS x",
		"INSTALL httpfs",
		"SET enable_external_access = true",
		"SET allowed_directories = ['/']",
	} {
		if err := sc.Session.Exec(ctx, q); err == nil {
			t.Errorf("%s ran, want refused by the sandbox", q)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "leak.csv")); err == nil {
		t.Error("the sandboxed session wrote outside its folders")
	}
}

// TestScratchSettableKeepsTheFileBarrier: a session whose settings stay changeable
// (silver build) still cannot read outside its folders or widen them again.
func TestScratchSettableKeepsTheFileBarrier(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t, false)
	sc, err := env.OpenScratchSettable(ctx, "settable-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.Session.Exec(ctx, "SET preserve_insertion_order = false", "SET preserve_insertion_order = true"); err != nil {
		t.Errorf("a settable session refused its own setting: %v", err)
	}
	for _, q := range []string{
		"SELECT * FROM read_text('/etc/passwd')",
		"SET enable_external_access = true",
		"SET allowed_directories = ['/']",
		"SET allowed_paths = ['/etc/passwd']",
	} {
		if err := sc.Session.Exec(ctx, q); err == nil {
			t.Errorf("%s ran, want refused", q)
		}
	}
}
