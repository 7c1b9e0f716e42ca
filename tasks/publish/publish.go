// Package publish commits what a run staged, once its gate has passed, by the
// write-audit-publish protocol of DESIGN section 3 (see lake.Commit).
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// Options select what to publish.
type Options struct {
	Layer     string
	Table     string
	Partition string
	// Step is passed to lake.Commit (crash-safety tests pause there).
	Step func(string)
}

// Task is the task name of a publish, per layer: "publish.silver".
func Task(layer string) string { return "publish." + layer }

// Run commits the partition this run staged. Silver commits its quarantine first,
// then the silver partition, so a visible silver partition always has its
// quarantine visible too. Publishing an already committed run is a no-op.
func Run(ctx context.Context, env *tasks.Env, o Options) (*audit.Record, error) {
	if _, err := lake.ParseDate(o.Partition); err != nil {
		return nil, fail.Usage(fmt.Errorf("publish %s %s: %w", o.Layer, o.Table, err))
	}
	var key, gateTask string
	var layers []string
	switch o.Layer {
	case lake.Silver:
		t, ok := env.Spec.SilverTable(o.Table)
		if !ok {
			return nil, fail.Usage(fmt.Errorf("silver table %q is not in spec %s", o.Table, env.Spec.File))
		}
		key, gateTask, layers = t.Key(), silver.TaskValidate, []string{lake.Quarantine, lake.Silver}
	default:
		return nil, fail.Usage(fmt.Errorf("publish: layer %q cannot be published (want silver)", o.Layer))
	}

	task := Task(o.Layer)
	log := env.Log.With("task", task, "table", o.Table, "partition", o.Partition, "run_id", env.RunID)
	started := env.Clock()
	rec := &audit.Record{RunID: env.RunID, Task: task, Table: o.Table, Partition: o.Partition,
		SpecSHA256: env.Spec.SHA256, WorkerVersion: env.Version, Inputs: []audit.IO{}, Outputs: []audit.IO{}}

	err := gatePassed(ctx, env, gateTask, o)
	var results []lake.CommitResult
	if err == nil {
		for _, layer := range layers {
			res, cerr := lake.Commit(ctx, env.Lake, lake.CommitRequest{Layer: layer, Table: o.Table, Key: key,
				Value: o.Partition, RunID: env.RunID, SpecSHA256: env.Spec.SHA256, Now: env.Clock(), Step: o.Step})
			if cerr != nil {
				err = fmt.Errorf("publish %s %s partition %s: %w", layer, o.Table, o.Partition, cerr)
				break
			}
			results = append(results, res)
			rec.Outputs = append(rec.Outputs, audit.IO{URI: env.Lake.URI(res.ManifestPath), Rows: res.Manifest.RowCount})
			if layer == o.Layer {
				rec.RowsIn, rec.RowsOut = res.Manifest.RowCount, res.Manifest.RowCount
			} else {
				rec.RowsQuarantined = res.Manifest.RowCount
			}
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
	if _, werr := audit.WriteRecord(ctx, env.Lake, rec); werr != nil {
		log.Error("audit not written", "err", werr)
	}
	if err != nil {
		return rec, err
	}
	for _, r := range results {
		if r.AlreadyCommitted {
			log.Info("partition already committed by this run", "manifest", env.Lake.URI(r.ManifestPath))
		} else {
			log.Info("partition committed", "manifest", env.Lake.URI(r.ManifestPath), "rows", r.Manifest.RowCount, "previous_run", r.PreviousRunID)
		}
	}
	return rec, nil
}

// gatePassed requires this run's validation report for the partition with a
// non-failing status: nothing is published that its gate has not audited.
func gatePassed(ctx context.Context, env *tasks.Env, gateTask string, o Options) error {
	p := audit.ReportPath(o.Partition, env.RunID, gateTask, o.Table)
	b, err := lake.ReadAll(ctx, env.Lake, p)
	if errors.Is(err, lake.ErrNotExist) {
		return fail.Data(fmt.Errorf("publish %s %s partition %s: no %s report for run %s (run the gate first)",
			o.Layer, o.Table, o.Partition, gateTask, env.RunID))
	}
	if err != nil {
		return err
	}
	var r audit.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("publish %s %s partition %s: parse report %s: %w", o.Layer, o.Table, o.Partition, p, err)
	}
	if r.Status == audit.Fail {
		return fail.Data(fmt.Errorf("publish %s %s partition %s: the %s gate failed for run %s (%v); nothing published",
			o.Layer, o.Table, o.Partition, gateTask, env.RunID, r.Failed()))
	}
	return nil
}
