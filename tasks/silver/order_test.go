package silver_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// TestSilverKeepsBronzeOrderAcrossFilesAndRowGroups: with bad rows and a key
// duplicated across two bronze files of many small row groups (so DuckDB reads
// them in parallel), silver holds exactly the good rows in bronze order, file by
// file, and the quarantine the others by position.
func TestSilverKeepsBronzeOrderAcrossFilesAndRowGroups(t *testing.T) {
	env := newEnv(t, readingsSpec, "run1")
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sizes := []int{5000, 3000}
	dir := lake.PartitionDir(lake.Bronze, "readings", env.Spec.BronzeKey(), day)
	m := lake.Manifest{Version: 1, Table: "readings", Partition: map[string]string{env.Spec.BronzeKey(): day}}
	var want []string
	for f, n := range sizes {
		local := filepath.Join(t.TempDir(), "part.parquet")
		// Every 7th row fails its cast; r0-11 of file 0 reappears as row 11 of file 1.
		q := fmt.Sprintf(`COPY (SELECT CASE WHEN %d = 1 AND i = 11 THEN 'r0-11' ELSE 'r%d-' || i END AS id,
  CASE WHEN i %% 7 = 3 THEN 'fast' ELSE CAST(i AS VARCHAR) END AS speed, 'kmh' AS unit, 'ann' AS owner
FROM range(%d) AS r(i)) TO '%s' (FORMAT parquet, ROW_GROUP_SIZE 512)`, f, f, n, local)
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if i%7 != 3 && i != 11 {
				want = append(want, fmt.Sprintf("r%d-%d", f, i))
			}
		}
		name := fmt.Sprintf("part-%05d.parquet", f)
		info, err := lake.Upload(ctx, env.Lake, local, dir+"/"+name, lake.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, lake.File{Path: name, Rows: int64(n), Bytes: info.Size, CRC32C: info.CRC32C})
		m.RowCount += int64(n)
	}
	if _, err := lake.WriteBytes(ctx, env.Lake, dir+"/_MANIFEST.json", lake.EncodeJSON(&m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}

	rec, err := silver.Build(ctx, env, silver.Options{Table: "readings", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if rec.RowsIn != 8000 || rec.RowsIn != rec.RowsOut+rec.RowsQuarantined+rec.RowsDeduplicated || rec.Reasons["pk_duplicate"] != 2 {
		t.Errorf("counts: %+v", rec)
	}
	sv, err := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Silver, "readings", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	if got := query(t, sv, env, "SELECT id FROM t"); !reflect.DeepEqual(got, want) {
		t.Errorf("silver holds %d ids, want %d in bronze order (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	q, err := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Quarantine, "readings", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	got := query(t, q, env, "SELECT count(*) FILTER (_reject_reason = 'cast_failed:speed' AND CAST(_source_row AS BIGINT) % 7 = 3) || ' ' || count(*) FROM t")
	if wantQ := fmt.Sprintf("%d %d", rec.Reasons["cast_failed:speed"], rec.RowsQuarantined); !reflect.DeepEqual(got, []string{wantQ}) {
		t.Errorf("quarantine: %v, want %s (every cast failure at a row = 3 mod 7)", got, wantQ)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
