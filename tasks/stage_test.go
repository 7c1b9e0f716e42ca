package tasks_test

import (
	"context"
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
