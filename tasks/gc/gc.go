// Package gc removes what no commit point references (`worker gc`): run folders
// left behind by republished or rolled-back partitions, and _staging/<run>/
// leftovers, once they are older than a grace period (DESIGN section 3).
package gc

import (
	"context"
	"fmt"
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
	if o.Grace < 0 {
		return lake.GCResult{}, nil, fail.Usage(fmt.Errorf("gc: --grace %s is negative", o.Grace))
	}
	started := env.Clock()
	day := started.Format(time.DateOnly)
	log := env.Log.With("task", spec.TaskGC, "run_id", env.RunID, "grace", o.Grace.String(), "dry_run", o.DryRun)
	rec := &audit.Record{RunID: env.RunID, Task: spec.TaskGC, Table: "lake", Partition: day,
		SpecSHA256: env.Spec.SHA256, WorkerVersion: env.Version, Inputs: []audit.IO{}, Outputs: []audit.IO{}}

	res, err := lake.GC(ctx, env.Lake, lake.GCRequest{Grace: o.Grace, Now: started, DryRun: o.DryRun})
	for _, f := range res.Removed {
		rec.Outputs = append(rec.Outputs, audit.IO{URI: env.Lake.URI(f.Dir), Rows: int64(f.Objects)})
		if !o.DryRun {
			log.Info("gc removed folder", "kind", f.Kind, "dir", f.Dir, "objects", f.Objects, "bytes", f.Bytes)
		}
	}

	end := env.Clock()
	rec.StartedAt, rec.FinishedAt = started.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
	rec.DurationMS = end.Sub(started).Milliseconds()
	rec.PeakRSSBytes = audit.PeakRSS()
	rec.Status, rec.ExitCode = audit.StatusSuccess, fail.Code(err)
	if err != nil {
		rec.Status, rec.Error = audit.StatusFailed, err.Error()
	}
	if o.DryRun {
		// A dry run changes nothing, so it leaves no audit behind either.
		return res, rec, err
	}
	if _, werr := audit.WriteRecord(ctx, env.Lake, rec); werr != nil {
		log.Error("audit not written", "error", werr)
	}
	return res, rec, err
}
