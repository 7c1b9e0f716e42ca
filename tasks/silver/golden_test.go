package silver_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/specs"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// fixtureDays are the days of testdata/fixture/bronze: the shop's eight bronze
// tables written by `worker generate --days 2 --start 2026-11-19 --scale 0.0005
// --fault-rate 0.02 --seed 7`, committed as files so a generator change does not
// move the inputs (every reason of the shop spec, duplicates and dedup occur).
var fixtureDays = []string{"2026-11-19", "2026-11-20"}

// TestSilverContentGolden pins what silver makes of a fixed bronze lake: per
// table and day, the build's counts and reasons and, for silver and quarantine,
// row count, schema and an md5 of every row as text in file order. A rewrite of
// the build must leave it unchanged (same rows, order, types, reasons).
// Refresh with go test ./tasks/silver -run TestSilverContentGolden -update.
func TestSilverContentGolden(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "bronze"), os.DirFS(filepath.Join("testdata", "fixture", "bronze"))); err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lake.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	env := &tasks.Env{Spec: sp, Lake: l, Log: logx.Discard(), RunID: "golden", WorkDir: t.TempDir(),
		Duck: duck.Options{MemoryLimit: "512MB", Threads: 2}, Version: "test"}
	nodes, err := sp.Graph().TopoOrder()
	if err != nil {
		t.Fatal(err)
	}

	var out strings.Builder
	for _, d := range fixtureDays {
		for _, n := range nodes {
			if n.Layer != lake.Silver {
				continue
			}
			o := silver.Options{Table: n.Table, Partition: d}
			switch n.Task {
			case spec.TaskSilverBuild:
				rec, err := silver.Build(ctx, env, o)
				if err != nil {
					t.Fatalf("build %s %s: %v", n.Table, d, err)
				}
				if rec.RowsIn != rec.RowsOut+rec.RowsQuarantined+rec.RowsDeduplicated {
					t.Errorf("%s %s: rows_in %d != out %d + quarantined %d + deduplicated %d",
						n.Table, d, rec.RowsIn, rec.RowsOut, rec.RowsQuarantined, rec.RowsDeduplicated)
				}
				fmt.Fprintf(&out, "%s %s build in=%d out=%d quarantined=%d deduplicated=%d reasons=%s\n",
					d, n.Table, rec.RowsIn, rec.RowsOut, rec.RowsQuarantined, rec.RowsDeduplicated, reasonList(rec.Reasons))
			case spec.TaskSilverValidate:
				if _, _, err := silver.Validate(ctx, env, o); err != nil {
					t.Fatalf("validate %s %s: %v", n.Table, d, err)
				}
			case spec.TaskPublish:
				if _, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: n.Table, Partition: d}); err != nil {
					t.Fatalf("publish %s %s: %v", n.Table, d, err)
				}
				tbl, _ := sp.SilverTable(n.Table)
				for _, layer := range []string{lake.Silver, lake.Quarantine} {
					p, err := lake.ReadCommitted(ctx, l, layer, n.Table, tbl.Key(), d)
					if err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(&out, "%s %s %s %s\n", d, n.Table, layer, contentDigest(t, env, p))
				}
			}
		}
	}
	goldenFile(t, filepath.Join("testdata", "silver_content.golden"), out.String())
}

func reasonList(r map[string]int64) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, r[k])
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// contentDigest is "rows=N md5=... schema=[c TYPE ...]" of a partition's files,
// rows hashed as text in file order (file by file, row by row).
func contentDigest(t *testing.T, env *tasks.Env, p *lake.Partition) string {
	t.Helper()
	locals, err := lake.Localize(context.Background(), env.Lake, p.FilePaths(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := md5.New()
	rows := 0
	var schema []string
	for i, f := range locals {
		from := "read_parquet(" + duck.Str(f) + ", hive_partitioning = false)"
		if i == 0 {
			res, err := db.Query("SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM " + from + ")")
			if err != nil {
				t.Fatal(err)
			}
			for res.Next() {
				var s string
				if err := res.Scan(&s); err != nil {
					t.Fatal(err)
				}
				schema = append(schema, s)
			}
			res.Close()
		}
		res, err := db.Query("SELECT CAST(t AS VARCHAR) FROM (SELECT * FROM " + from + ") t")
		if err != nil {
			t.Fatal(err)
		}
		for res.Next() {
			var s string
			if err := res.Scan(&s); err != nil {
				t.Fatal(err)
			}
			h.Write([]byte(s + "\n"))
			rows++
		}
		res.Close()
	}
	if int64(rows) != p.Manifest.RowCount {
		t.Errorf("%s: files hold %d rows, manifest %d", p.Dir, rows, p.Manifest.RowCount)
	}
	return fmt.Sprintf("rows=%d md5=%s schema=[%s]", rows, hex.EncodeToString(h.Sum(nil)), strings.Join(schema, ", "))
}

// goldenFile compares got with a golden file, or rewrites it under -update.
func goldenFile(t *testing.T, file, got string) {
	t.Helper()
	if updateGolden() {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update only if the change is intended):\ngot:\n%s\nwant:\n%s", file, got, want)
	}
}

// updateGolden reads the -update flag plan_test.go defines for this test binary.
func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}
