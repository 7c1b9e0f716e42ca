package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/sqltext"
)

// DuckDB is the embedded warehouse: one database file, one schema per layer.
type DuckDB struct {
	path string
	db   *sql.DB
	conn *sql.Conn
}

var _ Warehouse = (*DuckDB)(nil)

// DefaultLockWait bounds how long OpenDuckDB waits for another process to release
// the database file (DuckDB allows one writing process).
const DefaultLockWait = 2 * time.Minute

// OpenDuckDB opens (creating if needed) the warehouse database file at c.Path.
func OpenDuckDB(ctx context.Context, c Config) (*DuckDB, error) {
	if c.Path == "" {
		return nil, errors.New("duckdb warehouse: no database file: give --warehouse-path")
	}
	if err := os.MkdirAll(filepath.Dir(c.Path), 0o755); err != nil {
		return nil, fmt.Errorf("duckdb warehouse %s: %w", c.Path, err)
	}
	wait := c.LockWait
	if wait == 0 {
		wait = DefaultLockWait
	}
	deadline := time.Now().Add(wait)
	delay := 100 * time.Millisecond
	for {
		w, err := openDuck(ctx, c)
		if err == nil {
			return w, nil
		}
		if !strings.Contains(err.Error(), "lock") || time.Now().After(deadline) {
			return nil, fmt.Errorf("duckdb warehouse %s: %w", c.Path, err)
		}
		c.Log.Info("warehouse file is locked by another process; waiting", "path", c.Path)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func openDuck(ctx context.Context, c Config) (*DuckDB, error) {
	db, err := sql.Open("duckdb", c.Path)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	w := &DuckDB{path: c.Path, db: db, conn: conn}
	mem := c.Duck.MemoryLimit
	if mem == "" {
		mem = duck.DefaultMemoryLimit()
	}
	threads := c.Duck.Threads
	if threads <= 0 {
		threads = duck.DefaultThreads()
	}
	stmts := []string{"SET memory_limit = " + duck.Str(mem), "SET threads = " + strconv.Itoa(threads), "SET TimeZone = 'UTC'"}
	if c.Duck.TempDir != "" {
		stmts = append(stmts, "SET temp_directory = "+duck.Str(c.Duck.TempDir))
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			w.Close()
			return nil, fmt.Errorf("configure (%s): %w", q, err)
		}
	}
	if len(c.Sandbox) > 0 {
		dirs := append([]string{filepath.Dir(c.Path)}, c.Sandbox...)
		if err := (&duck.Session{DB: db, Conn: conn}).Sandbox(ctx, dirs...); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// duckDBBackend is the embedded DuckDB database file: it loads local copies of
// the lake's files and writes in transactions, not jobs.
func duckDBBackend() Backend {
	return Backend{
		Kind:     KindDuckDB,
		Features: Features{LocalFile: true, LocalSources: true},
		Open: func(ctx context.Context, c Config) (Warehouse, error) {
			w, err := OpenDuckDB(ctx, c)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return w, nil
		},
	}
}

// Kind is KindDuckDB.
func (w *DuckDB) Kind() string { return KindDuckDB }

// Features are duckDBBackend's.
func (w *DuckDB) Features() Features { return duckDBBackend().Features }

// Dialect renders DuckDB SQL.
func (w *DuckDB) Dialect() sqltext.Dialect { return sqltext.DuckDB{} }

// Path is the database file.
func (w *DuckDB) Path() string { return w.path }

// URI is duckdb:<file>#dataset.table$YYYYMMDD.
func (w *DuckDB) URI(t Table, partition string) string {
	u := "duckdb:" + w.path + "#" + t.String()
	if partition != "" {
		u += Decorator(partition)
	}
	return u
}

// Close closes the database file.
func (w *DuckDB) Close() error {
	w.conn.Close()
	return w.db.Close()
}

func (w *DuckDB) name(t Table) string { return sqltext.DuckDB{}.Table(t.Dataset, t.Name) }

// columns lists a table's columns and types; none if it does not exist.
func (w *DuckDB) columns(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, t Table) ([]Field, error) {
	rows, err := q.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? ORDER BY ordinal_position`, t.Dataset, t.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Field
	for rows.Next() {
		var f Field
		if err := rows.Scan(&f.Name, &f.Type); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Ensure creates the schema and the table, or adds the columns it lacks.
func (w *DuckDB) Ensure(ctx context.Context, t Table) error {
	if err := checkTable(t); err != nil {
		return err
	}
	schema := t.Schema
	if !hasField(schema, t.PartitionBy) {
		schema = append(append([]Field(nil), schema...), Field{Name: t.PartitionBy, Type: "DATE"})
	}
	if _, err := w.conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+duck.Ident(t.Dataset)); err != nil {
		return fmt.Errorf("create schema %s: %w", t.Dataset, err)
	}
	have, err := w.columns(ctx, w.conn, t)
	if err != nil {
		return fmt.Errorf("describe %s: %w", t, err)
	}
	if len(have) == 0 {
		cols := make([]string, len(schema))
		for i, f := range schema {
			cols[i] = duck.Ident(f.Name) + " " + f.Type
		}
		q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", w.name(t), strings.Join(cols, ", "))
		if _, err := w.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create table %s: %w", t, err)
		}
		return nil
	}
	var part *Field
	for i := range have {
		if strings.EqualFold(have[i].Name, t.PartitionBy) {
			part = &have[i]
		}
	}
	if part == nil || part.Type != "DATE" {
		return fmt.Errorf("table %s exists but is not partitioned by the DATE column %s", t, t.PartitionBy)
	}
	for _, f := range schema {
		if hasField(have, f.Name) {
			continue
		}
		q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", w.name(t), duck.Ident(f.Name), f.Type)
		if _, err := w.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("add column %s to %s: %w", f.Name, t, err)
		}
	}
	return nil
}

// describe returns the columns a query yields.
func (w *DuckDB) describe(ctx context.Context, q string) ([]Field, error) {
	rows, err := w.conn.QueryContext(ctx, "DESCRIBE "+q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []Field
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, Field{Name: fmt.Sprint(vals[0]), Type: fmt.Sprint(vals[1])})
	}
	return out, rows.Err()
}

// Load replaces partition D with the rows of the sources' Parquet files, in one
// transaction: DELETE the partition, INSERT from read_parquet, check, COMMIT.
func (w *DuckDB) Load(ctx context.Context, r LoadRequest) (Result, error) {
	if _, err := checkPartition(r.Partition); err != nil {
		return Result{}, err
	}
	if len(r.Sources) == 0 {
		return Result{}, fmt.Errorf("load %s partition %s: no files", r.Table, r.Partition)
	}
	locals := make([]string, len(r.Sources))
	for i, s := range r.Sources {
		if s.Local == "" {
			return Result{}, fmt.Errorf("load %s partition %s: %s has no local copy", r.Table, r.Partition, s.URI)
		}
		locals[i] = s.Local
	}
	src := fmt.Sprintf("SELECT * FROM read_parquet(%s, hive_partitioning = false, union_by_name = true)", duck.StrList(locals))
	t := r.Table
	if len(t.Schema) == 0 {
		fs, err := w.describe(ctx, src)
		if err != nil {
			return Result{}, fmt.Errorf("load %s partition %s: read files: %w", t, r.Partition, err)
		}
		t.Schema = fs
	}
	if !hasField(t.Schema, t.PartitionBy) {
		// The files of a partition need not repeat its key (dims snapshots): add it.
		src = fmt.Sprintf("SELECT *, %s AS %s FROM read_parquet(%s, hive_partitioning = false, union_by_name = true)",
			sqltext.DuckDB{}.Date(r.Partition), duck.Ident(t.PartitionBy), duck.StrList(locals))
	}
	if err := w.Ensure(ctx, t); err != nil {
		return Result{}, err
	}
	n, err := w.replace(ctx, t, r.Partition, src)
	if err != nil {
		return Result{}, fmt.Errorf("load %s partition %s: %w", t, r.Partition, err)
	}
	var want int64
	for _, s := range r.Sources {
		want += s.Rows
	}
	if n != want {
		return Result{}, fmt.Errorf("load %s partition %s: loaded %d rows, the manifest lists %d", t, r.Partition, n, want)
	}
	return Result{Rows: n, URI: w.URI(t, r.Partition)}, nil
}

// Build replaces partition D with the rows of a query, in one transaction.
func (w *DuckDB) Build(ctx context.Context, r BuildRequest) (Result, error) {
	if _, err := checkPartition(r.Partition); err != nil {
		return Result{}, err
	}
	t := r.Table
	fs, err := w.describe(ctx, r.SQL)
	if err != nil {
		return Result{}, fmt.Errorf("build %s partition %s: %w", t, r.Partition, err)
	}
	if err := checkQuerySchema(t, fs); err != nil {
		return Result{}, err
	}
	t.Schema = fs
	if err := w.Ensure(ctx, t); err != nil {
		return Result{}, err
	}
	n, err := w.replace(ctx, t, r.Partition, "SELECT * FROM ("+r.SQL+"\n) AS mart")
	if err != nil {
		return Result{}, fmt.Errorf("build %s partition %s: %w", t, r.Partition, err)
	}
	return Result{Rows: n, URI: w.URI(t, r.Partition)}, nil
}

// checkQuerySchema requires the partition column, as a DATE, and the clustering columns.
func checkQuerySchema(t Table, fs []Field) error {
	var part *Field
	for i := range fs {
		if strings.EqualFold(fs[i].Name, t.PartitionBy) {
			part = &fs[i]
		}
	}
	if part == nil {
		return fmt.Errorf("build %s: the query has no column %s (its partition_by)", t, t.PartitionBy)
	}
	if ty := strings.ToUpper(part.Type); ty != "DATE" {
		return fmt.Errorf("build %s: partition_by column %s is %s, not DATE: CAST it AS DATE", t, t.PartitionBy, part.Type)
	}
	for _, c := range t.ClusterBy {
		if !hasField(fs, c) {
			return fmt.Errorf("build %s: the query has no column %s (in cluster_by)", t, c)
		}
	}
	return nil
}

// replace swaps partition D for the rows of src in one transaction and checks,
// before committing, that no row landed outside D.
func (w *DuckDB) replace(ctx context.Context, t Table, d, src string) (int64, error) {
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	name, key, day := w.name(t), duck.Ident(t.PartitionBy), sqltext.DuckDB{}.Date(d)
	outside := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s IS DISTINCT FROM %s", name, key, day)
	var before, after int64
	if err := tx.QueryRowContext(ctx, outside).Scan(&before); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s = %s", name, key, day)); err != nil {
		return 0, fmt.Errorf("delete partition: %w", err)
	}
	ins := fmt.Sprintf("INSERT INTO %s BY NAME %s", name, src)
	if len(t.ClusterBy) > 0 {
		ins = fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM (%s) AS src ORDER BY %s", name, src, identList(t.ClusterBy))
	}
	res, err := tx.ExecContext(ctx, ins)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, outside).Scan(&after); err != nil {
		return 0, err
	}
	if after != before {
		return 0, fmt.Errorf("%w: %d of %d rows have %s other than %s; nothing was written",
			ErrOutsidePartition, after-before, n, t.PartitionBy, d)
	}
	return n, tx.Commit()
}

func identList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = duck.Ident(c)
	}
	return strings.Join(q, ", ")
}

// Query runs a read-only query.
func (w *DuckDB) Query(ctx context.Context, q string) (*Rows, error) {
	rows, err := w.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	out := &Rows{}
	for _, ct := range types {
		out.Columns = append(out.Columns, ct.Name())
	}
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			vals[i] = normalizeDuck(types[i].DatabaseTypeName(), v)
		}
		out.Values = append(out.Values, vals)
	}
	return out, rows.Err()
}

func normalizeDuck(typ string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if typ == "DATE" {
			return x.Format(time.DateOnly)
		}
		return x.UTC()
	case duckdb.Decimal:
		return decimalString(new(big.Rat).SetFrac(x.Value, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil)))
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	}
	return v
}

// decimalString renders an exact decimal without trailing zeros: "12.5", "3".
func decimalString(r *big.Rat) string {
	s := r.FloatString(12)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
