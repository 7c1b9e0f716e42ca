package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// RollbackOptions select the partition and the earlier run to point it back at.
type RollbackOptions struct {
	Layer     string
	Table     string
	Partition string
	// To is the run id to make current again; it must have been committed to the
	// partition (its run=<id>/_MANIFEST.json exists) and its files must be intact.
	To string
	// Step is called before each step of lake.Rollback with "<layer>:<step>".
	Step func(string)
}

// Rollback points a committed partition back at an earlier committed run
// (`worker rollback`). Every layer the publish committed is rolled back: silver
// together with its quarantine, both verified before either commit point moves
// (quarantine first, as publish does). The commit point records rolled_back_from;
// the table pointer follows; the audit is task "rollback". An unknown run is a
// usage error (exit 2), a run whose files are missing or changed a data error (3).
func Rollback(ctx context.Context, env *tasks.Env, o RollbackOptions) (*audit.Record, error) {
	if _, err := lake.ParseDate(o.Partition); err != nil {
		return nil, fail.Usage(fmt.Errorf("rollback %s %s: %w", o.Layer, o.Table, err))
	}
	if err := lake.CheckRunID(o.To); err != nil {
		return nil, fail.Usage(fmt.Errorf("rollback %s %s: --to: %w", o.Layer, o.Table, err))
	}
	key, _, layers, err := target(env, o.Layer, o.Table)
	if err != nil {
		return nil, err
	}
	return env.Run(ctx, spec.TaskRollback, o.Table, o.Partition, func(rec *audit.Record, log *slog.Logger) error {
		log = log.With("layer", o.Layer)
		// Verify every layer first, so a bad quarantine run does not leave silver and
		// quarantine pointing at different runs.
		for _, layer := range layers {
			m, err := lake.VerifyRun(ctx, env.Lake, layer, o.Table, key, o.Partition, o.To)
			if err != nil {
				return classify(fmt.Errorf("rollback %s %s partition %s to run %s: %w", layer, o.Table, o.Partition, o.To, err))
			}
			rec.Inputs = append(rec.Inputs, audit.IO{URI: env.Lake.URI(lake.RunDir(lake.PartitionDir(layer, o.Table, key, o.Partition), o.To) + "/" + lake.ManifestFile), Rows: m.RowCount})
		}
		for _, layer := range layers {
			res, err := lake.Rollback(ctx, env.Lake, lake.RollbackRequest{Layer: layer, Table: o.Table, Key: key,
				Value: o.Partition, RunID: o.To, Now: env.Clock(), Step: qualify(layer, o.Step)})
			if err != nil {
				return classify(fmt.Errorf("rollback %s %s partition %s to run %s: %w", layer, o.Table, o.Partition, o.To, err))
			}
			rec.Outputs = append(rec.Outputs, audit.IO{URI: env.Lake.URI(res.ManifestPath), Rows: res.Manifest.RowCount})
			if layer == o.Layer {
				rec.RowsIn, rec.RowsOut = res.Manifest.RowCount, res.Manifest.RowCount
			} else {
				rec.RowsQuarantined, rec.RowsDeduplicated = res.Manifest.QuarantineSplit()
			}
			if res.AlreadyCurrent {
				log.Info("partition already points at the run", "manifest", env.Lake.URI(res.ManifestPath), "to", o.To)
			} else {
				log.Info("partition rolled back", "manifest", env.Lake.URI(res.ManifestPath), "to", o.To, "from", res.PreviousRunID)
			}
		}
		return nil
	})
}

// classify maps rollback failures to exit codes: no such run is a bad --to (2),
// a run that no longer matches its manifest is bad data (3).
func classify(err error) error {
	switch {
	case errors.Is(err, lake.ErrCorrupt):
		return fail.Data(err)
	case errors.Is(err, lake.ErrNotExist):
		return fail.Usage(err)
	}
	return err
}
