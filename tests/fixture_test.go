package tests

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" driver, to read and rewrite Parquet files

	"github.com/shoplake/lakehouse/internal/lake"
)

// day is the partition most tests generate and build.
const day = "2026-11-20"

// mustRun runs the worker and fails the test unless it exits with want.
func mustRun(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	stdout, stderr, code := runWorker(t, args...)
	if code != want {
		t.Fatalf("worker %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

// copyTree copies the directory src to dst (which must not exist).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

// treeFiles maps every regular file under dir (relative, slash-separated) to its bytes.
func treeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

// readManifest parses a _MANIFEST.json file.
func readManifest(t *testing.T, p string) *lake.Manifest {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m lake.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("parse %s: %v", p, err)
	}
	return &m
}

// writeManifest writes m to p as the worker would.
func writeManifest(t *testing.T, p string, m *lake.Manifest) {
	t.Helper()
	if err := os.WriteFile(p, lake.EncodeJSON(m), 0o644); err != nil {
		t.Fatal(err)
	}
}

// restamp sets the manifest entry of file name (in the manifest's folder) to the
// file's current size and CRC32C, so only content checks can catch a change.
func restamp(t *testing.T, manifestPath, name string) {
	t.Helper()
	m := readManifest(t, manifestPath)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(manifestPath), name))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range m.Files {
		if m.Files[i].Path == name {
			m.Files[i].Bytes, m.Files[i].CRC32C = int64(len(b)), lake.CRC32C(b)
			found = true
		}
	}
	if !found {
		t.Fatalf("%s does not list %s", manifestPath, name)
	}
	writeManifest(t, manifestPath, m)
}

// openDuck starts an in-memory DuckDB for reading and rewriting Parquet files.
func openDuck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{"SET threads = 2", "SET memory_limit = '1GB'", "SET TimeZone = 'UTC'"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

// sqlStr quotes a string literal for DuckDB.
func sqlStr(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// rewriteParquet replaces the Parquet file p by the result of selectList over it.
func rewriteParquet(t *testing.T, db *sql.DB, p, selectList string) {
	t.Helper()
	tmp := p + ".rewrite.parquet"
	q := "COPY (SELECT " + selectList + " FROM read_parquet(" + sqlStr(p) + ", hive_partitioning = false)) TO " + sqlStr(tmp) + " (FORMAT parquet)"
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// committedRows returns every row of a committed partition (without the columns in
// exclude), each rendered as one JSON string, sorted: a content fingerprint
// independent of file layout and run folders.
func committedRows(t *testing.T, db *sql.DB, lakeDir, layer, table, key, value string, exclude ...string) []string {
	t.Helper()
	dir := filepath.Join(lakeDir, layer, table, key+"="+value)
	m := readManifest(t, filepath.Join(dir, lake.ManifestFile))
	if len(m.Files) == 0 {
		return nil
	}
	files := make([]string, len(m.Files))
	for i, f := range m.Files {
		files[i] = sqlStr(filepath.Join(dir, filepath.FromSlash(f.Path)))
	}
	cols := "*"
	if len(exclude) > 0 {
		cols = "* EXCLUDE (" + strings.Join(exclude, ", ") + ")"
	}
	q := "SELECT CAST(to_json(t) AS VARCHAR) FROM (SELECT " + cols + " FROM read_parquet([" + strings.Join(files, ", ") + "], hive_partitioning = false)) AS t"
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if int64(len(out)) != m.RowCount {
		t.Fatalf("%s/%s %s: manifest says %d rows, files hold %d", layer, table, value, m.RowCount, len(out))
	}
	sort.Strings(out)
	return out
}

// jsonLines parses every non-empty line of s as a JSON object.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader([]byte(line)))
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}
