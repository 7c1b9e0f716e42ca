package gold

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strings"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks"
)

// BuildOptions select the mart and partition to build.
type BuildOptions struct {
	Mart      string
	Partition string
}

// SCD2 columns a dim marked scd2 must return.
var scd2Columns = []string{"valid_from", "valid_to", "is_current"}

// Build renders the mart's SQL for partition D and the warehouse, makes sure the
// dims snapshots it reads are in the warehouse, and replaces the mart's
// partition D with the query's rows (one transaction on DuckDB; one query job to
// mart$YYYYMMDD with WRITE_TRUNCATE on BigQuery).
func Build(ctx context.Context, env *tasks.Env, o BuildOptions) (*audit.Record, error) {
	m, err := lookupMart(env.Spec, "gold build", o.Mart, o.Partition)
	if err != nil {
		return nil, err
	}
	return env.Run(ctx, spec.TaskGoldBuild, m.Name, o.Partition, func(rec *audit.Record, log *slog.Logger) error {
		w, err := Open(ctx, env)
		if err != nil {
			return err
		}
		defer w.Close()
		if err := build(ctx, env, w, m, o.Partition, rec, log); err != nil {
			return fmt.Errorf("gold build %s partition %s: %w", m.Name, o.Partition, err)
		}
		return nil
	})
}

func build(ctx context.Context, env *tasks.Env, w warehouse.Warehouse, m *spec.Mart, d string, rec *audit.Record, log *slog.Logger) error {
	synced := map[string]bool{}
	for _, r := range m.Refs() {
		if r.Layer == spec.LayerDims {
			dim, history, ok := env.Spec.DimOf(r.Name)
			if !ok {
				continue
			}
			if !synced[dim.Name] || history {
				if err := syncDim(ctx, env, w, dim.Name, d, history, log); err != nil {
					return err
				}
				synced[dim.Name] = true
			}
		}
	}
	if err := recordInputs(ctx, env, w, m, d, rec); err != nil {
		return err
	}
	q, err := renderMart(env.Spec, m, d, w.Dialect())
	if err != nil {
		return err
	}
	t := warehouse.Table{Dataset: spec.LayerGold, Name: m.Name, PartitionBy: m.PartitionBy, ClusterBy: m.ClusterBy}
	res, err := w.Build(ctx, warehouse.BuildRequest{Table: t, Partition: d, SQL: q, RunID: env.RunID})
	if err != nil {
		return fmt.Errorf("%w (inputs come from `worker gold load`; %s reads %s)", classify(err), m.SQL, strings.Join(m.Tables(), ", "))
	}
	if m.SCD2 {
		probe := fmt.Sprintf("SELECT %s FROM %s WHERE FALSE", strings.Join(scd2Columns, ", "), w.Dialect().Table(t.Dataset, t.Name))
		if _, err := w.Query(ctx, probe); err != nil {
			return fail.Usage(fmt.Errorf("mart %s is scd2 but does not return %s: %w", m.Name, strings.Join(scd2Columns, ", "), err))
		}
	}
	rec.RowsOut = res.Rows
	rec.Outputs = append(rec.Outputs, audit.IO{URI: res.URI, Rows: res.Rows})
	log.Info("mart partition built", append([]any{"warehouse", w.Kind(), "rows", res.Rows}, jobAttrs(res)...)...)
	return nil
}

// recordInputs records what the mart reads for D as the audit's inputs, as the
// catalog binds its depends_on for D: one input per lake partition (its commit
// point, rows from the manifest: what gold load put in the warehouse), and a gold
// table the mart reads with the warehouse's row count. rows_in is their sum.
func recordInputs(ctx context.Context, env *tasks.Env, w warehouse.Warehouse, m *spec.Mart, d string, rec *audit.Record) error {
	cat := &catalog.Catalog{Spec: env.Spec, Lake: env.Lake, Partition: d}
	for _, dep := range m.Deps() {
		r := dep.Ref
		if r.Layer == spec.LayerGold {
			t := warehouse.Table{Dataset: r.Layer, Name: r.Name}
			n, err := countRows(ctx, w, t)
			if err != nil {
				return fmt.Errorf("count the rows of input %s: %w", r, err)
			}
			rec.Inputs = append(rec.Inputs, audit.IO{URI: w.URI(t, ""), Rows: n})
			rec.RowsIn += n
			continue
		}
		binds, err := cat.PartitionsDeps(ctx, dep)
		if err != nil {
			return fmt.Errorf("inputs: %w", err)
		}
		for _, b := range binds {
			for _, p := range b.Partitions {
				rec.Inputs = append(rec.Inputs, audit.IO{URI: env.Lake.URI(path.Join(p.Dir, lake.ManifestFile)), Rows: p.Manifest.RowCount})
				rec.RowsIn += p.Manifest.RowCount
			}
		}
	}
	return nil
}

// countRows counts a warehouse table's rows.
func countRows(ctx context.Context, w warehouse.Warehouse, t warehouse.Table) (int64, error) {
	rows, err := w.Query(ctx, "SELECT COUNT(*) FROM "+w.Dialect().Table(t.Dataset, t.Name))
	if err != nil {
		return 0, err
	}
	if len(rows.Values) != 1 || len(rows.Values[0]) != 1 {
		return 0, fmt.Errorf("count(*) of %s returned %d rows", t, len(rows.Values))
	}
	switch n := rows.Values[0][0].(type) {
	case int64:
		return n, nil
	case int32:
		return int64(n), nil
	case int:
		return int64(n), nil
	}
	return 0, fmt.Errorf("count(*) of %s returned %T", t, rows.Values[0][0])
}

// syncDim puts the dims snapshots a build of partition D reads into the
// warehouse: the latest snapshot on or before D is always (re)loaded, being the
// one most likely republished; with history, every earlier snapshot the
// warehouse lacks is loaded too. (A republished older snapshot is reloaded with
// `worker gold load --table dims.<dim> --partition <date>`.)
func syncDim(ctx context.Context, env *tasks.Env, w warehouse.Warehouse, dim, d string, history bool, log *slog.Logger) error {
	vals, err := lake.CommittedPartitions(ctx, env.Lake, lake.Dims, dim, lake.DimsKey)
	if err != nil {
		return err
	}
	n := sort.SearchStrings(vals, d+"\x00")
	vals = vals[:n]
	if len(vals) == 0 {
		return fail.Data(fmt.Errorf("dims.%s has no snapshot on or before %s: run `worker dims snapshot --dim %s` and publish it", dim, d, dim))
	}
	src, err := ResolveSource(env.Spec, "dims."+dim)
	if err != nil {
		return err
	}
	need := vals[len(vals)-1:]
	if history {
		have, err := loadedPartitions(ctx, w, src.Table, d)
		if err != nil {
			log.Info("dims table not readable yet; loading every snapshot", "dim", dim, "error", err)
		}
		need = nil
		for i, v := range vals {
			if i == len(vals)-1 || !have[v] {
				need = append(need, v)
			}
		}
	}
	for _, v := range need {
		res, err := loadPartition(ctx, env, w, src.Table, lake.Dims, dim, lake.DimsKey, v, nil)
		if err != nil {
			return fmt.Errorf("load dims.%s snapshot %s: %w", dim, v, err)
		}
		log.Info("dims snapshot loaded", append([]any{"dim", dim, "snapshot_dt", v, "rows", res.Rows}, jobAttrs(res)...)...)
	}
	return nil
}

// loadedPartitions lists the partitions on or before D a warehouse table holds.
func loadedPartitions(ctx context.Context, w warehouse.Warehouse, t warehouse.Table, d string) (map[string]bool, error) {
	q := fmt.Sprintf("SELECT DISTINCT CAST(%s AS STRING) FROM %s WHERE %s <= %s", t.PartitionBy,
		w.Dialect().Table(t.Dataset, t.Name), t.PartitionBy, w.Dialect().Date(d))
	rows, err := w.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, r := range rows.Values {
		if s, ok := r[0].(string); ok {
			have[s] = true
		}
	}
	return have, nil
}
