// Package catalogtest writes small committed partitions for tests of code that reads
// the lake through the catalog, and reads results back, both as text tables that a
// test spells out:
//
//	order_id | customer_id | order_ts            | total_amount
//	O1       | C1          | 2026-11-20 10:00:00 | 100.00
//
// Cells are trimmed; NULL (or an empty cell) is SQL NULL. Values are cast to the
// column types by DuckDB.
package catalogtest

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// RunID is the run the helpers commit as, unless a Partition says otherwise.
const RunID = "seed"

// Partition names one partition to write.
type Partition struct {
	Layer, Table, Key, Value string
	// RunID defaults to RunID.
	RunID string
}

// Table is a parsed text table.
type Table struct {
	Columns []string
	Rows    [][]*string
}

// Parse reads a text table: a header line, then one line per row, cells separated
// by '|'. Blank lines are skipped.
func Parse(t testing.TB, text string) Table {
	t.Helper()
	var tab Table
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		cells := strings.Split(line, "|")
		if tab.Columns == nil {
			for _, c := range cells {
				tab.Columns = append(tab.Columns, strings.TrimSpace(c))
			}
			continue
		}
		if len(cells) != len(tab.Columns) {
			t.Fatalf("text table row %q has %d cells, the header %d", line, len(cells), len(tab.Columns))
		}
		row := make([]*string, len(cells))
		for i, c := range cells {
			c = strings.TrimSpace(c)
			if c != "" && c != "NULL" {
				row[i] = &c
			}
		}
		tab.Rows = append(tab.Rows, row)
	}
	return tab
}

// Commit writes rows as one Parquet file with the given schema (columns the text
// does not name are NULL; a schema column named like the partition key is filled
// with the partition value), stages it with its manifest, and commits it with
// lake.Commit. It returns the committed partition.
func Commit(t testing.TB, l lake.Lake, p Partition, schema []lake.Field, rows string) *lake.Partition {
	t.Helper()
	ctx := context.Background()
	if p.RunID == "" {
		p.RunID = RunID
	}
	Stage(t, l, p, schema, rows)
	if _, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: p.Layer, Table: p.Table, Key: p.Key, Value: p.Value,
		RunID: p.RunID, Now: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatalf("commit %s.%s %s=%s: %v", p.Layer, p.Table, p.Key, p.Value, err)
	}
	part, err := lake.ReadCommitted(ctx, l, p.Layer, p.Table, p.Key, p.Value)
	if err != nil {
		t.Fatal(err)
	}
	return part
}

// Stage writes rows as Commit does under _staging/<run>/, with the staged
// manifest, and commits nothing (a build whose gate has not passed, or failed).
func Stage(t testing.TB, l lake.Lake, p Partition, schema []lake.Field, rows string) *lake.Partition {
	t.Helper()
	ctx := context.Background()
	if p.RunID == "" {
		p.RunID = RunID
	}
	tab := Parse(t, rows)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defs := make([]string, len(schema))
	for i, f := range schema {
		defs[i] = duck.Ident(f.Name) + " " + f.Type
	}
	if _, err := db.Exec("CREATE TABLE b (" + strings.Join(defs, ", ") + ")"); err != nil {
		t.Fatal(err)
	}
	typeOf := map[string]string{}
	for _, f := range schema {
		typeOf[f.Name] = f.Type
	}
	cols, casts := []string{}, []string{}
	for _, c := range tab.Columns {
		ty, ok := typeOf[c]
		if !ok {
			t.Fatalf("commit %s.%s: column %q is not in the schema", p.Layer, p.Table, c)
		}
		cols = append(cols, duck.Ident(c))
		casts = append(casts, "CAST(? AS "+ty+")")
	}
	if _, ok := typeOf[p.Key]; ok && !contains(tab.Columns, p.Key) {
		cols = append(cols, duck.Ident(p.Key))
		casts = append(casts, "CAST(? AS "+typeOf[p.Key]+")")
	}
	for _, r := range tab.Rows {
		args := make([]any, 0, len(cols))
		for _, v := range r {
			args = append(args, v)
		}
		if len(args) < len(cols) {
			args = append(args, p.Value)
		}
		q := fmt.Sprintf("INSERT INTO b (%s) SELECT %s", strings.Join(cols, ", "), strings.Join(casts, ", "))
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("commit %s.%s: insert %v: %v", p.Layer, p.Table, r, err)
		}
	}
	local := filepath.Join(t.TempDir(), "part.parquet")
	if _, err := db.Exec("COPY b TO " + duck.Str(local) + " (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	dir := lake.StagingDir(p.RunID, p.Layer, p.Table, p.Key, p.Value)
	info, err := lake.Upload(ctx, l, local, path.Join(dir, "part-00000.parquet"), lake.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(tab.Rows))
	m := lake.Manifest{Version: lake.ManifestVersion, Table: p.Table, Layer: p.Layer,
		Partition: map[string]string{p.Key: p.Value}, RowCount: n, Schema: schema,
		Files: []lake.File{{Path: "part-00000.parquet", Rows: n, Bytes: info.Size, CRC32C: info.CRC32C}}}
	if _, err := lake.WriteBytes(ctx, l, path.Join(dir, lake.ManifestFile), lake.EncodeJSON(&m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	part, err := lake.ReadStaged(ctx, l, p.RunID, p.Layer, p.Table, p.Key, p.Value)
	if err != nil {
		t.Fatal(err)
	}
	return part
}

// Silver commits rows as partition value of a base-silver table, with the files
// silver writes: the spec's columns plus the partition key as DATE.
func Silver(t testing.TB, l lake.Lake, sp *spec.Spec, table, value, rows string) *lake.Partition {
	t.Helper()
	st, _ := sp.SilverTable(table)
	schema := SilverSchema(t, sp, table)
	return Commit(t, l, Partition{Layer: lake.Silver, Table: table, Key: st.Key(), Value: value}, schema, rows)
}

// SilverSchema is the schema of a base-silver table's files: the spec's columns
// plus the partition key as DATE.
func SilverSchema(t testing.TB, sp *spec.Spec, table string) []lake.Field {
	t.Helper()
	st, ok := sp.SilverTable(table)
	if !ok {
		t.Fatalf("silver table %q is not in the spec", table)
	}
	schema := fields(st.Columns)
	if _, ok := st.Column(st.Key()); !ok {
		schema = append(schema, lake.Field{Name: st.Key(), Type: "DATE"})
	}
	return schema
}

// QuarantineSchema is the schema of a table's quarantine files: the raw bronze
// columns and the reject columns, no partition column.
func QuarantineSchema(t testing.TB, sp *spec.Spec, table string) []lake.Field {
	t.Helper()
	st, ok := sp.SilverTable(table)
	if !ok {
		t.Fatalf("silver table %q is not in the spec", table)
	}
	b, _ := sp.BronzeTable(st.Source)
	return append(fields(b.Columns), lake.QuarantineFields()...)
}

// Quarantine commits rows as partition value of a table's quarantine, with the
// files silver writes: the raw bronze columns and the reject columns, no
// partition column.
func Quarantine(t testing.TB, l lake.Lake, sp *spec.Spec, table, value, rows string) *lake.Partition {
	t.Helper()
	schema := QuarantineSchema(t, sp, table)
	st, _ := sp.SilverTable(table)
	return Commit(t, l, Partition{Layer: lake.Quarantine, Table: table, Key: st.Key(), Value: value}, schema, rows)
}

// Dim commits rows as the snapshot of a dim as of value, laid out as DESIGN
// section 3 says (dims/<dim>/snapshot_dt=<date>/run=<run>/): the source's silver
// columns plus snapshot_dt.
func Dim(t testing.TB, l lake.Lake, sp *spec.Spec, dim, value, rows string) *lake.Partition {
	t.Helper()
	d, ok := sp.Dim(dim)
	if !ok {
		t.Fatalf("dim %q is not in the spec", dim)
	}
	st, _ := sp.SilverTable(d.Source)
	schema := append(fields(st.Columns), lake.Field{Name: lake.DimsKey, Type: "DATE"})
	return Commit(t, l, Partition{Layer: lake.Dims, Table: dim, Key: lake.DimsKey, Value: value}, schema, rows)
}

// Select runs q over the files of a partition, bound as table t, and returns the
// result as a text table (see Equal).
func Select(tb testing.TB, l lake.Lake, p *lake.Partition, q string) string {
	tb.Helper()
	locals, err := lake.Localize(context.Background(), l, p.FilePaths(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec("CREATE VIEW t AS SELECT * FROM read_parquet(" + duck.StrList(locals) + ", hive_partitioning = false)"); err != nil {
		tb.Fatal(err)
	}
	return QueryText(tb, db, q)
}

// QueryText runs q and renders its result as a text table: a header, then rows,
// cells as DuckDB casts them to VARCHAR, NULL as NULL, separated by " | ".
func QueryText(tb testing.TB, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string) string {
	tb.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (\n"+q+"\n) AS _q")
	if err != nil {
		tb.Fatalf("query %s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	lines := []string{strings.Join(cols, " | ")}
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		cells := make([]string, len(cols))
		for i, v := range vals {
			cells[i] = "NULL"
			if v != nil {
				cells[i] = *v
			}
		}
		lines = append(lines, strings.Join(cells, " | "))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// Equal compares two text tables cell by cell (spacing aside; an empty cell equals
// NULL) and reports the difference.
func Equal(t testing.TB, got, want string) {
	t.Helper()
	g, w := normalize(got), normalize(want)
	if g != w {
		t.Errorf("rows differ\n got:\n%s\nwant:\n%s", g, w)
	}
}

func normalize(text string) string {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		cells := strings.Split(line, "|")
		for i, c := range cells {
			c = strings.TrimSpace(c)
			if c == "" {
				c = "NULL"
			}
			cells[i] = c
		}
		lines = append(lines, strings.Join(cells, " | "))
	}
	return strings.Join(lines, "\n")
}

func fields(cols []spec.Column) []lake.Field {
	out := make([]lake.Field, len(cols))
	for i, c := range cols {
		out[i] = lake.Field{Name: c.Name, Type: c.Type}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
