// Package publish commits what a run staged, once its gate has passed, by the
// write-audit-publish protocol of DESIGN section 3 (see lake.Commit).
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

// Options select what to publish.
type Options struct {
	Layer     string
	Table     string
	Partition string
	// Step is called before each step of lake.Commit with "<layer>:<step>", e.g.
	// "quarantine:copy part-00000.parquet" (crash-safety tests pause there).
	Step func(string)
}

// target resolves what a publish of layer/table commits: the partition key, the
// gate whose report must have passed (spec.PublishGate), and the layers to commit
// in order (the last is the one published; its staging holds the verdict).
func target(env *tasks.Env, layer, table string) (key, gateTask string, layers []string, err error) {
	switch layer {
	case lake.Silver:
		t, ok := env.Spec.SilverTable(table)
		if !ok {
			return "", "", nil, fail.Usage(fmt.Errorf("silver table %q is not in spec %s", table, env.Spec.File))
		}
		// Quarantine first: a visible silver partition always has its quarantine.
		key, layers = t.Key(), []string{lake.Quarantine, lake.Silver}
	case lake.Enriched:
		t, ok := env.Spec.Transform(table)
		if !ok {
			return "", "", nil, fail.Usage(fmt.Errorf("enriched transform %q is not in spec %s", table, env.Spec.File))
		}
		key, layers = t.Key(), []string{lake.Enriched}
	case lake.Dims:
		if _, ok := env.Spec.Dim(table); !ok {
			return "", "", nil, fail.Usage(fmt.Errorf("dim %q is not in spec %s", table, env.Spec.File))
		}
		key, layers = lake.DimsKey, []string{lake.Dims}
	default:
		return "", "", nil, fail.Usage(fmt.Errorf("layer %q cannot be published (want %s, %s or %s)", layer, lake.Silver, lake.Enriched, lake.Dims))
	}
	gate, ok := spec.PublishGate(layer)
	if !ok {
		return "", "", nil, fmt.Errorf("publish %s: no task kind gates the layer", layer)
	}
	return key, gate.Name, layers, nil
}

// qualify prefixes step names with the layer being committed.
func qualify(layer string, step func(string)) func(string) {
	if step == nil {
		return nil
	}
	return func(name string) { step(layer + ":" + name) }
}

// Run commits the partition this run staged, once this run's gate for it passed
// (silver: silver.validate; enriched: enriched.validate; dims: dims.snapshot).
// Silver commits its quarantine first, then the silver partition, so a visible
// silver partition always has its quarantine visible too. Publishing an already
// committed run is a no-op; a publish whose read of the commit point went stale
// re-reads and retries (lake.Commit).
func Run(ctx context.Context, env *tasks.Env, o Options) (*audit.Record, error) {
	if _, err := lake.ParseDate(o.Partition); err != nil {
		return nil, fail.Usage(fmt.Errorf("publish %s %s: %w", o.Layer, o.Table, err))
	}
	key, gateTask, layers, err := target(env, o.Layer, o.Table)
	if err != nil {
		return nil, err
	}

	return env.Run(ctx, spec.PublishAuditTask(o.Layer), o.Table, o.Partition, func(rec *audit.Record, log *slog.Logger) error {
		if err := gatePassed(ctx, env, gateTask, key, layers, o); err != nil {
			return err
		}
		rec.Published = &audit.Placement{}
		for _, layer := range layers {
			res, err := lake.Commit(ctx, env.Lake, lake.CommitRequest{Layer: layer, Table: o.Table, Key: key,
				Value: o.Partition, RunID: env.RunID, SpecSHA256: env.Spec.SHA256, Now: env.Clock(), Step: qualify(layer, o.Step)})
			if err != nil {
				return fmt.Errorf("publish %s %s partition %s: %w", layer, o.Table, o.Partition, err)
			}
			rec.Outputs = append(rec.Outputs, audit.IO{URI: env.Lake.URI(res.ManifestPath), Rows: res.Manifest.RowCount})
			rec.Published.Merge(res.Placed)
			if layer == o.Layer {
				rec.RowsIn, rec.RowsOut = res.Manifest.RowCount, res.Manifest.RowCount
			} else {
				rec.RowsQuarantined, rec.RowsDeduplicated = res.Manifest.QuarantineSplit()
			}
			if res.AlreadyCommitted {
				log.Info("partition already committed by this run", "layer", layer, "manifest", env.Lake.URI(res.ManifestPath))
			} else {
				log.Info("partition committed", "layer", layer, "manifest", env.Lake.URI(res.ManifestPath),
					"rows", res.Manifest.RowCount, "previous_run", res.PreviousRunID, "files", res.Placed.Files,
					"bytes", res.Placed.Bytes, "bytes_not_copied", res.Placed.BytesNotCopied)
			}
		}
		if len(layers) > 1 {
			if err := realign(ctx, env, o, key, layers); err != nil {
				return fmt.Errorf("publish %s %s partition %s: %w", o.Layer, o.Table, o.Partition, err)
			}
		}
		return nil
	})
}

// gatePassed requires this run's gate verdict on the staged partition to have
// passed (lake.ReadVerdict): nothing is published that its gate has not judged, or
// that changed since. Without a verdict, a partition this run already committed
// (its staging since cleaned by gc) republishes as the no-op it is.
func gatePassed(ctx context.Context, env *tasks.Env, gateTask, key string, layers []string, o Options) error {
	main := layers[len(layers)-1]
	g, err := lake.ReadVerdict(ctx, env.Lake, gateTask, env.RunID, main, o.Table, key, o.Partition)
	if err != nil {
		return fmt.Errorf("publish %s %s partition %s: %w", o.Layer, o.Table, o.Partition, err)
	}
	if g.Passed {
		return nil
	}
	if g.Missing {
		committed, err := committedBy(ctx, env, o.Table, key, o.Partition, layers)
		if err != nil || committed {
			return err
		}
	}
	return fail.Data(fmt.Errorf("publish %s %s partition %s: %s; nothing published", o.Layer, o.Table, o.Partition, g.Why))
}

// committedBy reports whether every layer's commit point names this run.
func committedBy(ctx context.Context, env *tasks.Env, table, key, value string, layers []string) (bool, error) {
	for _, layer := range layers {
		p, err := lake.ReadCommitted(ctx, env.Lake, layer, table, key, value)
		if errors.Is(err, lake.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if p.Manifest.RunID != env.RunID {
			return false, nil
		}
	}
	return true, nil
}

// realign keeps silver and its quarantine on one run when runs publish the same
// partition at once: each commit point is swapped atomically, but the two are
// separate objects, so A's quarantine and B's silver can both win. After its own
// silver commit, every publisher loops until it reads a quarantine that names the
// run silver names, pointing the quarantine at that run (committed in its run
// folder before that run's silver swap) whenever they differ. Every write is
// followed by another read, so the last publisher to finish leaves them equal.
func realign(ctx context.Context, env *tasks.Env, o Options, key string, layers []string) error {
	main, companions := layers[len(layers)-1], layers[:len(layers)-1]
	const rounds = 20
	for round := 0; round < rounds; round++ {
		cur, err := lake.ReadCommitted(ctx, env.Lake, main, o.Table, key, o.Partition)
		if err != nil {
			return err
		}
		want := cur.Manifest.RunID
		aligned := true
		for _, layer := range companions {
			c, err := lake.ReadCommitted(ctx, env.Lake, layer, o.Table, key, o.Partition)
			if err != nil && !errors.Is(err, lake.ErrNotExist) {
				return err
			}
			if err == nil && c.Manifest.RunID == want {
				continue
			}
			aligned = false
			env.Log.Warn("a concurrent publish left the partition on two runs; pointing the companion layer at the run the main layer names",
				"layer", layer, "main_layer", main, "target_run", want, "table", o.Table, "partition", o.Partition, "run_id", env.RunID)
			if _, err := lake.Realign(ctx, env.Lake, lake.RollbackRequest{Layer: layer, Table: o.Table, Key: key,
				Value: o.Partition, RunID: want, Now: env.Clock(), Step: qualify(layer, o.Step)}); err != nil {
				return fmt.Errorf("realign %s %s partition %s on run %s: %w", layer, o.Table, o.Partition, want, err)
			}
		}
		if aligned {
			return nil
		}
	}
	return fmt.Errorf("publish %s %s partition %s: %s and its companions did not settle on one run after %d rounds of concurrent publishes",
		o.Layer, o.Table, o.Partition, main, rounds)
}
