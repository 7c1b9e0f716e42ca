// Package gc removes what no commit point references (`worker gc`): run folders
// left behind by republished or rolled-back partitions, and _staging/<run>/
// leftovers, once they are older than a grace period (DESIGN section 3).
package gc

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// DefaultGrace keeps three days of unreferenced runs (rollback targets) and staging.
const DefaultGrace = 72 * time.Hour

// Options configure a collection.
type Options struct {
	// Grace keeps folders whose newest object is younger than this (by the env clock).
	Grace time.Duration
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
}

// Run collects garbage and writes the audit (outputs: the removed folders, rows =
// their object counts). Nothing a commit point references is ever removed.
func Run(ctx context.Context, env *tasks.Env, o Options) (lake.GCResult, *audit.Record, error) {
	if o.Grace < lake.MinGrace {
		return lake.GCResult{}, nil, fail.Usage(fmt.Errorf("gc: --grace %s is shorter than the minimum %s: a publish in flight could lose the files its commit point is about to name", o.Grace, lake.MinGrace))
	}
	day := env.Clock().Format(time.DateOnly)
	var res lake.GCResult
	rec, err := env.RunFrame(ctx, tasks.Frame{Task: spec.TaskGC, Table: "lake", Partition: day,
		Log: []any{"grace", o.Grace.String(), "dry_run", o.DryRun}, NoAudit: o.DryRun},
		func(rec *audit.Record, log *slog.Logger) error {
			var err error
			res, err = lake.GC(ctx, env.Lake, lake.GCRequest{Grace: o.Grace, Now: env.Clock(), DryRun: o.DryRun})
			for _, f := range res.Removed {
				rec.Outputs = append(rec.Outputs, audit.IO{URI: env.Lake.URI(f.Dir), Rows: int64(f.Objects)})
				if !o.DryRun {
					log.Info("gc removed folder", "kind", f.Kind, "dir", f.Dir, "objects", f.Objects, "bytes", f.Bytes)
				}
			}
			return err
		})
	return res, rec, err
}
