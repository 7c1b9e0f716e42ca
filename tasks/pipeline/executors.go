package pipeline

import (
	"context"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/bronze"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// executor runs one step in-process, exactly as the matching worker command does.
type executor func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error)

// executors maps a graph node's task kind to the task that runs it.
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
	spec.TaskPublish: func(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
		return publish.Run(ctx, env, publish.Options{Layer: st.Node.Layer, Table: st.Node.Table, Partition: st.Partition})
	},
}
