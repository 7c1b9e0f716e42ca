package silver

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPlanGolden pins every statement a silver build runs, for tables of
// specs/shop that together use casts, exprs, checks, accepted values, a
// primary key with dedup and foreign keys (one failing, one warning, if the
// spec has them). Refresh with go test ./tasks/silver -run TestPlanGolden -update.
func TestPlanGolden(t *testing.T) {
	s, err := spec.Load(os.DirFS("../../specs/shop"), "specs/shop")
	if err != nil {
		t.Fatal(err)
	}
	files := []sourceFile{
		{Local: "/scratch/bronze/part-00000.parquet", Name: "part-00000.parquet", Rows: 1000},
		{Local: "/scratch/bronze/part-00001.parquet", Name: "part-00001.parquet", Rows: 500},
	}
	for _, name := range []string{"orders", "order_items"} {
		t.Run(name, func(t *testing.T) {
			tbl, ok := s.SilverTable(name)
			if !ok {
				t.Fatalf("specs/shop has no silver table %s", name)
			}
			b, ok := s.BronzeTable(tbl.Source)
			if !ok {
				t.Fatalf("silver %s: no bronze table %s", name, tbl.Source)
			}
			fkTables := make([]string, len(tbl.ForeignKeys))
			for i := range tbl.ForeignKeys {
				fkTables[i] = fmt.Sprintf("fkkeys%d", i) // as build names them
			}
			p := plan{table: tbl, bronze: b}
			var out strings.Builder
			section := func(title string, stmts ...string) {
				fmt.Fprintf(&out, "-- %s\n", title)
				for _, q := range stmts {
					out.WriteString(q + ";\n")
				}
				out.WriteString("\n")
			}
			section("classify", p.classify(files, fkTables))
			section("dedup", p.dedup()...)
			section("fate", p.fate())
			// File 0 has rows in fate, file 1 none.
			skipping := append([]sourceFile(nil), files...)
			skipping[0].Skip = "silver_fate_0"
			section("fate bits of file 0", fateBits(skipping[0].Skip, 0, skipping[0].Rows))
			section("silver rows of partition 2026-11-20", p.silverSelect(skipping, "2026-11-20"))
			section("quarantine rows", p.quarantineSelect(files, "run-1"))
			golden(t, filepath.Join("testdata", "plan_"+name+".sql"), out.String())
		})
	}
}

// golden compares got with a golden file, or rewrites it under -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
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
		t.Errorf("%s differs from the plan (run with -update if the change is intended):\n%s", file, got)
	}
}
