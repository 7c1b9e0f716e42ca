package gold

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks"
)

// LoadOptions select the partition to load.
type LoadOptions struct {
	// Table is layer-qualified: silver.orders, enriched.customer_ltv, dims.customers.
	Table     string
	Partition string
}

// maxCluster is BigQuery's limit of clustering columns.
const maxCluster = 4

// Source is a lake table as the warehouse loads it.
type Source struct {
	Ref   spec.Ref
	Key   string
	Table warehouse.Table
}

// ResolveSource maps a layer-qualified name to its lake folders and warehouse
// table: dataset = layer, partitioned on the table's partition key (dims:
// snapshot_dt), clustered by the primary key where the spec has one.
func ResolveSource(s *spec.Spec, name string) (Source, error) {
	r, err := spec.ParseRef(name)
	if err != nil {
		return Source{}, fail.Usage(fmt.Errorf("gold load --table: %w", err))
	}
	src := Source{Ref: r}
	var pk []string
	switch r.Layer {
	case spec.LayerSilver:
		t, ok := s.SilverTable(r.Name)
		if !ok {
			return src, fail.Usage(fmt.Errorf("silver table %q is not in spec %s", r.Name, s.File))
		}
		src.Key, pk = t.Key(), t.PrimaryKey
	case spec.LayerEnriched:
		t, ok := s.Transform(r.Name)
		if !ok {
			return src, fail.Usage(fmt.Errorf("enriched transform %q is not in spec %s", r.Name, s.File))
		}
		src.Key = t.Key()
	case spec.LayerDims:
		d, history, ok := s.DimOf(r.Name)
		if !ok {
			return src, fail.Usage(fmt.Errorf("dim %q is not in spec %s", r.Name, s.File))
		}
		if history {
			return src, fail.Usage(fmt.Errorf("load dims.%s: %s is how SQL reads every snapshot; load the snapshot itself, dims.%s", r.Name, r.Name, d.Name))
		}
		src.Key = lake.DimsKey
		if t, ok := s.SilverTable(d.Source); ok {
			pk = t.PrimaryKey
		}
	default:
		return src, fail.Usage(fmt.Errorf("gold load --table %s: load silver.<table>, enriched.<transform> or dims.<dim>", name))
	}
	if len(pk) > maxCluster {
		pk = pk[:maxCluster]
	}
	src.Table = warehouse.Table{Dataset: r.Layer, Name: r.Name, PartitionBy: src.Key, ClusterBy: pk}
	return src, nil
}

// Load loads the committed partition D of a silver table, enriched transform or
// dim snapshot into the warehouse, replacing the warehouse's partition D.
func Load(ctx context.Context, env *tasks.Env, o LoadOptions) (*audit.Record, error) {
	src, err := ResolveSource(env.Spec, o.Table)
	if err != nil {
		return nil, err
	}
	if _, err := lake.ParseDate(o.Partition); err != nil {
		return nil, fail.Usage(fmt.Errorf("gold load %s: %w", o.Table, err))
	}
	return env.Run(ctx, spec.TaskGoldLoad, src.Ref.String(), o.Partition, func(rec *audit.Record, log *slog.Logger) error {
		w, err := Open(ctx, env)
		if err != nil {
			return err
		}
		defer w.Close()
		res, err := loadPartition(ctx, env, w, src.Table, src.Ref.Layer, src.Ref.Name, src.Key, o.Partition, rec)
		if err != nil {
			return fmt.Errorf("gold load %s partition %s: %w", src.Ref, o.Partition, err)
		}
		rec.RowsOut = res.Rows
		rec.Outputs = append(rec.Outputs, audit.IO{URI: res.URI, Rows: res.Rows})
		log.Info("partition loaded", append([]any{"warehouse", w.Kind(), "rows", res.Rows}, jobAttrs(res)...)...)
		return nil
	})
}

func removeAll(dir string) { _ = os.RemoveAll(dir) }
