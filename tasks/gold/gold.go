// Package gold runs the warehouse tasks (DESIGN sections 1 and 9): load a published
// lake partition into the warehouse (gold.load), build a fact or dim mart partition
// from spec SQL (gold.build), and load a partition's audits and reports into
// ops.ops_task_audit (gold.audit). The warehouse is DuckDB or BigQuery
// (internal/warehouse); every task replaces exactly one partition, so running it
// again, or in any order over a backfill, gives the same warehouse.
package gold

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks"
)

// WarehouseFile is the embedded warehouse's file in a local lake.
const WarehouseFile = "warehouse.duckdb"

// Open opens the warehouse env.Warehouse configures: a DuckDB file (default
// <lake>/warehouse.duckdb for a local lake) or BigQuery.
func Open(ctx context.Context, env *tasks.Env) (warehouse.Warehouse, error) {
	c := env.Warehouse
	cfg := warehouse.Config{Kind: c.Kind, Path: c.Path, Project: c.Project, Location: c.Location,
		Endpoint: c.Endpoint, Duck: env.Duck, Log: env.Log, Retry: c.Retry}
	b, err := warehouse.Lookup(c.Kind)
	if err != nil {
		return nil, fail.Usage(fmt.Errorf("--warehouse %q: use %s", c.Kind, warehouse.KindList()))
	}
	cfg.Kind = b.Kind
	if b.Features.LocalFile {
		p, err := DuckDBPath(env)
		if err != nil {
			return nil, err
		}
		cfg.Path = p
	}
	if b.Features.LocalFile {
		// Loads stage a remote lake's files in temp folders of the work folder
		// (env.TempDir), made after the warehouse is open: allow all of it.
		work := env.WorkDir
		if work == "" {
			work = os.TempDir()
		}
		if abs, err := filepath.Abs(work); err == nil {
			work = abs
		}
		cfg.Sandbox = append(env.SandboxDirs(), work)
	}
	if b.Features.NeedsProject && cfg.Project == "" {
		return nil, fail.Usage(fmt.Errorf("the %s warehouse needs --bq-project (WORKER_BQ_PROJECT)", b.Kind))
	}
	w, err := warehouse.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	return w, nil
}

// DuckDBPath is the file of the embedded DuckDB warehouse: --warehouse-path, else
// warehouse.duckdb in a local lake. A remote lake has no default (DuckDB writes
// only local files): that is a usage error.
func DuckDBPath(env *tasks.Env) (string, error) {
	if p := env.Warehouse.Path; p != "" {
		return p, nil
	}
	loc, ok := env.Lake.(lake.Localizer)
	if !ok {
		return "", fail.Usage(errors.New("the duckdb warehouse needs --warehouse-path (WORKER_WAREHOUSE_PATH) when the lake is not a local directory"))
	}
	return loc.LocalPath(WarehouseFile), nil
}

// classify maps warehouse errors to exit codes: a row outside its partition is
// bad data (3); mart SQL the embedded warehouse cannot parse or bind, or that its
// sandbox refuses, is a usage error (2, catalog.SQLError); the rest are
// infrastructure (1).
func classify(err error) error {
	if errors.Is(err, warehouse.ErrOutsidePartition) {
		return fail.Data(err)
	}
	return catalog.SQLError(err)
}

// loadPartition loads one committed lake partition into the warehouse table t.
func loadPartition(ctx context.Context, env *tasks.Env, w warehouse.Warehouse, t warehouse.Table, layer, table, key, d string, rec *audit.Record) (warehouse.Result, error) {
	l := env.Lake
	part, err := lake.ReadCommitted(ctx, l, layer, table, key, d)
	if errors.Is(err, lake.ErrNotExist) {
		return warehouse.Result{}, fail.Data(fmt.Errorf("%s.%s partition %s is not published (no %s): publish it before loading",
			layer, table, d, path.Join(lake.PartitionDir(layer, table, key, d), lake.ManifestFile)))
	}
	if err != nil {
		return warehouse.Result{}, fail.Data(fmt.Errorf("%s.%s partition %s: %w", layer, table, d, err))
	}
	paths := part.FilePaths()
	srcs := make([]warehouse.Source, len(paths))
	for i, p := range paths {
		srcs[i] = warehouse.Source{URI: l.URI(p), Rows: part.Manifest.Files[i].Rows}
	}
	if w.Features().LocalSources && len(paths) > 0 {
		work, err := env.TempDir("gold-load-")
		if err != nil {
			return warehouse.Result{}, err
		}
		defer removeAll(work)
		locals, err := lake.Localize(ctx, l, paths, work)
		if err != nil {
			return warehouse.Result{}, err
		}
		for i := range srcs {
			srcs[i].Local = locals[i]
		}
	}
	for _, f := range part.Manifest.Schema {
		t.Schema = append(t.Schema, warehouse.Field{Name: f.Name, Type: f.Type})
	}
	if rec != nil {
		for _, s := range srcs {
			rec.Inputs = append(rec.Inputs, audit.IO{URI: s.URI, Rows: s.Rows})
		}
		rec.RowsIn += part.Manifest.RowCount
	}
	if len(srcs) == 0 {
		return warehouse.Result{}, fail.Data(fmt.Errorf("%s.%s partition %s has no files to load", layer, table, d))
	}
	res, err := w.Load(ctx, warehouse.LoadRequest{Table: t, Partition: d, Sources: srcs, RunID: env.RunID})
	if err != nil {
		return res, classify(err)
	}
	return res, nil
}

// jobAttrs are the log attributes of a BigQuery job, none for DuckDB.
func jobAttrs(res warehouse.Result) []any {
	if res.JobID == "" {
		return nil
	}
	return []any{"job_id", res.JobID, "reused", res.Reused}
}
