package gold_test

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"path/filepath"
	"testing"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks"
)

// commit writes a committed lake partition from a SELECT, as publish leaves it:
// run=<run>/part-00000.parquet plus the partition _MANIFEST.json (the commit point).
// The SELECT must return the partition key column.
func commit(t *testing.T, env *tasks.Env, layer, table, key, d, selectSQL string) {
	t.Helper()
	ctx := context.Background()
	local := filepath.Join(t.TempDir(), "part-00000.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", selectSQL, duck.Str(local))); err != nil {
		t.Fatalf("commit %s.%s %s: %v", layer, table, d, err)
	}
	var rows int64
	if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + duck.Str(local) + ")").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	var schema []lake.Field
	rs, err := db.Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(" + duck.Str(local) + "))")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var f lake.Field
		if err := rs.Scan(&f.Name, &f.Type); err != nil {
			t.Fatal(err)
		}
		schema = append(schema, f)
	}
	rs.Close()
	dir := lake.PartitionDir(layer, table, key, d)
	rel := path.Join("run="+env.RunID, "part-00000.parquet")
	info, err := lake.Upload(ctx, env.Lake, local, path.Join(dir, rel), lake.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	m := lake.Manifest{Version: lake.ManifestVersion, Table: table, Layer: layer, Partition: map[string]string{key: d},
		RowCount: rows, Schema: schema, RunID: env.RunID,
		Files: []lake.File{{Path: rel, Rows: rows, Bytes: info.Size, CRC32C: info.CRC32C}}}
	if _, err := lake.WriteBytes(ctx, env.Lake, path.Join(dir, lake.ManifestFile), lake.EncodeJSON(&m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
}
