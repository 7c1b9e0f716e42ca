package gold_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
	"github.com/shoplake/lakehouse/tasks/gold"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestRenderGolden pins the query of every gold mart of specs/shop and
// specs/jaffle_shop in both dialects, as `worker gold render` prints it and gold
// build runs it. Refresh with go test ./tasks/gold -run TestRenderGolden -update.
func TestRenderGolden(t *testing.T) {
	for _, dir := range []string{"shop", "jaffle_shop"} {
		s, err := spec.Load(os.DirFS(filepath.Join("..", "..", "specs", dir)), "specs/"+dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Marts()) == 0 {
			t.Fatalf("specs/%s has no gold marts", dir)
		}
		for _, m := range s.Marts() {
			for _, d := range []sqltext.Dialect{sqltext.DuckDB{}, sqltext.BigQuery{Project: gold.DefaultRenderProject}} {
				file := filepath.Join("testdata", "render", dir, m.Name+"."+d.Name()+".sql")
				t.Run(dir+"/"+m.Name+"/"+d.Name(), func(t *testing.T) {
					q, err := gold.RenderSQL(s, gold.RenderOptions{Mart: m.Name, Partition: "2026-11-20", Dialect: d})
					if err != nil {
						t.Fatal(err)
					}
					golden(t, file, q)
				})
			}
		}
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
		t.Errorf("%s differs from the rendering (run with -update if the change is intended):\n%s", file, got)
	}
}
