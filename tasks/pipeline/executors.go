package pipeline

import (
	"context"
	"fmt"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/bronze"
	"github.com/shoplake/lakehouse/tasks/dims"
	"github.com/shoplake/lakehouse/tasks/enriched"
	"github.com/shoplake/lakehouse/tasks/gold"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// executor runs one step in-process, exactly as the matching worker command does.
type executor func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error)

// executors maps each scheduled spec.Kind, by name, to the task that runs it
// in-process; spec.Kinds says what the kind is, this says how it runs here.
var executors = map[string]executor{
	spec.TaskBronzeValidate: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		rec, _, err := bronze.Validate(ctx, env, bronze.ValidateOptions{Table: st.Node.Table, Partition: st.Partition})
		return rec, err
	},
	spec.TaskSilverBuild: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		return silver.Build(ctx, env, silver.Options{Table: st.Node.Table, Partition: st.Partition})
	},
	spec.TaskSilverValidate: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		rec, _, err := silver.Validate(ctx, env, silver.Options{Table: st.Node.Table, Partition: st.Partition})
		return rec, err
	},
	spec.TaskDimsSnapshot: refreshDim,
	spec.TaskEnrichedBuild: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		return enriched.Build(ctx, env, enriched.Options{Transform: st.Node.Table, Partition: st.Partition})
	},
	spec.TaskEnrichedValidate: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		rec, _, err := enriched.Validate(ctx, env, enriched.Options{Transform: st.Node.Table, Partition: st.Partition})
		return rec, err
	},
	spec.TaskGoldLoad: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		return gold.Load(ctx, env, gold.LoadOptions{Table: st.Node.Table, Partition: st.Partition})
	},
	spec.TaskGoldBuild: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		return gold.Build(ctx, env, gold.BuildOptions{Mart: st.Node.Table, Partition: st.Partition})
	},
	spec.TaskPublish: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		return publish.Run(ctx, env, publish.Options{Layer: st.Node.Layer, Table: st.Node.Table, Partition: st.Partition})
	},
}

// refreshDim snapshots a dim for partition D unless its latest snapshot is fresh
// (younger than max_age) and already covers D. Covering D matters in a backfill:
// a snapshot taken minutes ago as of D-1 is fresh by age but misses D's rows, and
// transforms of D bind dims to the latest snapshot on or before D.
func refreshDim(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
	d, ok := env.Spec.Dim(st.Node.Table)
	if !ok {
		return nil, fmt.Errorf("dim %q is not in the spec", st.Node.Table)
	}
	f, err := dims.ReadFreshness(ctx, env, d)
	if err != nil {
		return nil, err
	}
	if f.Fresh && f.SnapshotDT >= st.Partition {
		return nil, fail.Skip(fmt.Errorf("dims %s: snapshot %s (run %s) is %s old and covers %s: reused",
			d.Name, f.SnapshotDT, f.RunID, dims.Human(f.Age), st.Partition))
	}
	rec, _, err := dims.Snapshot(ctx, env, dims.Options{Dim: d.Name, Partition: st.Partition})
	return rec, err
}
