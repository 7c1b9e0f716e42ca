// Package warehouse is the gold warehouse behind one small interface (DESIGN
// sections 1 and 9): an embedded DuckDB database file, or BigQuery. Both keep one
// dataset (DuckDB: schema) per layer — silver, enriched, dims, gold, plus ops — with
// every table partitioned by day on a DATE column, and both replace a partition
// idempotently: loading or building partition D twice leaves one copy of D and
// never touches another partition.
//
// SQL given to Build is already rendered for the warehouse (see Render): each spec
// SQL file is written once, and the differences between the two warehouses go
// through the template macros of this package.
package warehouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
)

// Warehouse kinds, as --warehouse names them; each speaks the SQL dialect of
// the same name.
const (
	KindDuckDB   = sqltext.NameDuckDB
	KindBigQuery = sqltext.NameBigQuery
)

// Datasets besides the layers: ops holds the task audit table.
const (
	DatasetOps = "ops"
	// TableTaskAudit is ops.ops_task_audit, loaded by `worker gold audit`.
	TableTaskAudit = "ops_task_audit"
)

// ErrOutsidePartition is returned (wrapped) when a load or build of partition D
// produced a row whose partition column is not D (or is NULL). Nothing was written.
var ErrOutsidePartition = errors.New("rows outside the partition")

// Field is a column with a DuckDB type name, as lake manifests write them.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Table is a warehouse table partitioned by day on a DATE column.
type Table struct {
	// Dataset is the layer (silver, enriched, dims, gold) or ops.
	Dataset string
	Name    string
	// PartitionBy is the DATE column that partitions the table (required).
	PartitionBy string
	// ClusterBy lists up to four clustering columns (BigQuery; DuckDB orders the
	// inserted rows by them, which helps its zone maps).
	ClusterBy []string
	// Schema is the table's columns. Loads need it (it comes from the manifest);
	// builds take the query's own schema.
	Schema []Field
}

// String is "dataset.name".
func (t Table) String() string { return t.Dataset + "." + t.Name }

// Source is one Parquet file of a published partition.
type Source struct {
	// URI is the object's URI (gs://... for BigQuery loads).
	URI string
	// Local is a local path of the same file (DuckDB loads).
	Local string
	// Rows is the row count the manifest gives.
	Rows int64
}

// LoadRequest loads a published partition's Parquet files into a table partition.
type LoadRequest struct {
	Table     Table
	Partition string
	Sources   []Source
	// RunID makes BigQuery's job ids deterministic (a retried task reuses them).
	RunID string
}

// BuildRequest replaces a table partition with the rows of a query.
type BuildRequest struct {
	Table     Table
	Partition string
	// SQL is the query, rendered for this warehouse.
	SQL   string
	RunID string
}

// Result says what a load or build did.
type Result struct {
	// Rows is the number of rows the partition holds now.
	Rows int64
	// URI names the partition written, for audits.
	URI string
	// JobID is the BigQuery job that wrote the partition.
	JobID string
	// Reused is true when an earlier job with the same id had already done the
	// work (a retried task), so nothing was loaded twice.
	Reused bool
}

// Rows is a query result. Values are normalized across warehouses: DATE as
// "YYYY-MM-DD" strings, integers as int64, floats as float64, NUMERIC and
// DECIMAL as strings, timestamps as time.Time in UTC.
type Rows struct {
	Columns []string
	Values  [][]any
}

// Warehouse is the gold warehouse.
type Warehouse interface {
	// Kind is KindDuckDB or KindBigQuery, for logs and messages; ask Features
	// what the warehouse can do.
	Kind() string
	// Features say what the warehouse can do: its Backend's Features.
	Features() Features
	// Dialect renders template macros and table names for this warehouse.
	Dialect() sqltext.Dialect
	// URI names a table partition for audits and messages.
	URI(t Table, partition string) string
	// Ensure creates the table's dataset and the table (partitioning, clustering,
	// schema) if missing, and adds columns the table lacks.
	Ensure(ctx context.Context, t Table) error
	// Load replaces partition D of the table with the rows of the sources.
	Load(ctx context.Context, r LoadRequest) (Result, error)
	// Build replaces partition D of the table with the rows of a query.
	Build(ctx context.Context, r BuildRequest) (Result, error)
	// Query runs a read-only query.
	Query(ctx context.Context, q string) (*Rows, error)
	// Close releases the warehouse.
	Close() error
}

// Config selects and configures a warehouse.
type Config struct {
	// Kind is duckdb (default) or bigquery.
	Kind string
	// Path is the DuckDB database file.
	Path string
	// Project and Location are BigQuery's.
	Project  string
	Location string
	// Endpoint overrides the BigQuery API endpoint (an emulator or a test server);
	// requests then go without authentication.
	Endpoint string
	// Retry is the budget of one BigQuery API call (--io-retries, --io-timeout;
	// zero fields: lake.DefaultRetry's).
	Retry lake.Retry
	// JobTimeout bounds the wait for one BigQuery job (default DefaultJobTimeout).
	JobTimeout time.Duration
	// Duck sizes the DuckDB session.
	Duck duck.Options
	// Sandbox, when set, locks the DuckDB session down to these folders once it is
	// configured (duck.Session.Sandbox): the mart SQL it runs is spec SQL.
	Sandbox []string
	// LockWait bounds how long Open waits for another process's lock on the DuckDB
	// file (default 2 minutes).
	LockWait time.Duration
	Log      *slog.Logger
}

// Open opens the configured warehouse.
func Open(ctx context.Context, c Config) (Warehouse, error) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	b, err := Lookup(c.Kind)
	if err != nil {
		return nil, err
	}
	return b.Open(ctx, c)
}

// checkTable rejects names that are not plain identifiers (they reach SQL and job ids).
func checkTable(t Table) error {
	for _, n := range append([]string{t.Dataset, t.Name, t.PartitionBy}, t.ClusterBy...) {
		if !spec.IsIdent(n) {
			return fmt.Errorf("table %s: %q is not a valid name", t, n)
		}
	}
	if len(t.ClusterBy) > 4 {
		return fmt.Errorf("table %s: at most 4 cluster_by columns, got %d", t, len(t.ClusterBy))
	}
	for _, f := range t.Schema {
		if !spec.IsIdent(f.Name) {
			return fmt.Errorf("table %s: column %q is not a valid name", t, f.Name)
		}
	}
	return nil
}

// checkPartition parses D.
func checkPartition(d string) (time.Time, error) {
	return lake.ParseDate(d)
}

// Decorator is BigQuery's partition decorator of a day: "$20261120".
func Decorator(partition string) string {
	return "$" + strings.ReplaceAll(partition, "-", "")
}

// hasField reports whether the schema has a column (case-insensitively, as both
// warehouses compare names).
func hasField(fs []Field, name string) bool {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}
