// Package tasks holds what every task kind shares: the environment a task runs in.
// Each task kind lives in its own package (bronze, silver, publish, generate, ...)
// with an Options struct and a Run function; tasks never read flags, env or globals.
package tasks

import (
	"log/slog"
	"os"
	"time"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// Env is what a task may use: the spec, the lake, a logger, the run id and a clock.
type Env struct {
	Spec  *spec.Spec
	Lake  lake.Lake
	Log   *slog.Logger
	RunID string
	// Now is the clock; tests set it.
	Now func() time.Time
	// Duck sizes DuckDB sessions.
	Duck duck.Options
	// WorkDir holds a task's local scratch files; default the OS temp dir.
	WorkDir string
	// Version is the worker's version, recorded in audits.
	Version string
	// Warehouse selects the gold warehouse (worker gold).
	Warehouse Warehouse
}

// Warehouse configures the gold warehouse (DESIGN section 5); tasks/gold opens it.
type Warehouse struct {
	// Kind is duckdb (default) or bigquery.
	Kind string
	// Path is the DuckDB database file; default <lake>/warehouse.duckdb for a local lake.
	Path string
	// Project and Location are BigQuery's; datasets are named after the layers.
	Project  string
	Location string
	// Endpoint overrides the BigQuery API endpoint (an emulator or a test server).
	Endpoint string
	// Retry is the budget of one BigQuery API call (--io-retries, --io-timeout).
	Retry lake.Retry
}

// Clock returns Env.Now, defaulting to time.Now.
func (e *Env) Clock() time.Time {
	if e.Now == nil {
		return time.Now().UTC()
	}
	return e.Now().UTC()
}

// TempDir returns a fresh scratch folder under WorkDir; the caller removes it.
func (e *Env) TempDir(pattern string) (string, error) {
	return os.MkdirTemp(e.WorkDir, pattern)
}
