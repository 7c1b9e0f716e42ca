package lake

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"
)

// ErrCorrupt is returned (wrapped) when a committed run's files are missing or do
// not match its manifest, so it cannot be made visible again.
var ErrCorrupt = errors.New("run folder does not match its manifest")

// RollbackRequest names the partition to point back at an earlier committed run.
type RollbackRequest struct {
	Layer, Table, Key, Value string
	// RunID is the earlier run to make current again.
	RunID string
	Now   time.Time
	// Step, when set, is called before each step with its name (as in Commit).
	Step func(name string)
}

// RollbackResult says what a rollback did.
type RollbackResult struct {
	// Manifest is the commit point now in place.
	Manifest *Manifest
	// ManifestPath is the commit point's lake path.
	ManifestPath string
	// RunManifestPath is the rolled-back-to run's own manifest.
	RunManifestPath string
	// AlreadyCurrent is true when the partition already pointed at the run.
	AlreadyCurrent bool
	// PreviousRunID is the run the partition pointed at before, if any.
	PreviousRunID string
}

// VerifyRun reads the immutable manifest of one committed run of a partition
// (<partition>/run=<id>/_MANIFEST.json) and checks that every file it lists exists
// with its size and crc32c. A missing run manifest wraps ErrNotExist; a missing or
// changed file wraps ErrCorrupt.
func VerifyRun(ctx context.Context, l Lake, layer, table, key, value, runID string) (*Manifest, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, err
	}
	runDir := RunDir(PartitionDir(layer, table, key, value), runID)
	mp := path.Join(runDir, ManifestFile)
	m, _, err := ReadManifest(ctx, l, mp)
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			return nil, fmt.Errorf("run %s was never committed to %s (no %s; gc may have removed it): %w",
				runID, PartitionDir(layer, table, key, value), mp, ErrNotExist)
		}
		return nil, err
	}
	if m.RunID != runID {
		return nil, fmt.Errorf("%s names run %q, not %q: %w", mp, m.RunID, runID, ErrCorrupt)
	}
	if m.Partition[key] != value {
		return nil, fmt.Errorf("%s is for partition %v, not %s=%s: %w", mp, m.Partition, key, value, ErrCorrupt)
	}
	states, err := StatFiles(ctx, l, runDir, m.Files)
	if err != nil {
		return nil, err
	}
	for _, s := range states {
		if s.Missing {
			return nil, fmt.Errorf("run %s: file %s is missing: %w", runID, s.Path, ErrCorrupt)
		}
		if !s.Intact() {
			return nil, fmt.Errorf("run %s: file %s has %d bytes, crc32c %s; the manifest says %d, %s: %w",
				runID, s.Path, s.Info.Size, s.Info.CRC32C, s.File.Bytes, s.File.CRC32C, ErrCorrupt)
		}
	}
	return m, nil
}

// Rollback points a partition's commit point back at an earlier committed run
// (`worker rollback`): it verifies the run's files against the run's own manifest,
// swaps the commit point by compare-and-swap (recording rolled_back_from), then
// updates the table pointer. Like Commit, every step is safe to repeat.
func Rollback(ctx context.Context, l Lake, req RollbackRequest) (RollbackResult, error) {
	return pointAt(ctx, l, req, true)
}

// Realign points a partition's commit point at another committed run without
// marking it as a rollback: publish uses it to keep a companion layer (quarantine)
// on the run its main layer (silver) names after concurrent publishes.
func Realign(ctx context.Context, l Lake, req RollbackRequest) (RollbackResult, error) {
	return pointAt(ctx, l, req, false)
}

func pointAt(ctx context.Context, l Lake, req RollbackRequest, mark bool) (RollbackResult, error) {
	step := req.Step
	if step == nil {
		step = func(string) {}
	}
	partDir := PartitionDir(req.Layer, req.Table, req.Key, req.Value)
	res := RollbackResult{ManifestPath: path.Join(partDir, ManifestFile),
		RunManifestPath: path.Join(RunDir(partDir, req.RunID), ManifestFile)}

	step("verify-run")
	runManifest, err := VerifyRun(ctx, l, req.Layer, req.Table, req.Key, req.Value, req.RunID)
	if err != nil {
		return res, err
	}
	commitPoint := commitPointOf(runManifest, req.RunID)
	if mark {
		commitPoint.RolledBackAt = req.Now.UTC().Format(time.RFC3339Nano)
	}
	swap, err := swapCommitPoint(ctx, l, res.ManifestPath, req.RunID, "rollback", step,
		func(cur *Manifest) *Manifest {
			switch {
			case cur == nil:
				commitPoint.RolledBackFrom = ""
			case mark:
				commitPoint.RolledBackFrom = cur.RunID
			}
			return &commitPoint
		})
	res.Manifest, res.AlreadyCurrent, res.PreviousRunID = swap.Manifest, swap.Already, swap.PreviousRunID
	if err != nil {
		return res, err
	}

	step("update-pointer")
	preq := CommitRequest{Layer: req.Layer, Table: req.Table, Key: req.Key, Value: req.Value, RunID: req.RunID, Now: req.Now}
	if err := updatePointer(ctx, l, preq, res.Manifest); err != nil {
		return res, err
	}
	step("done")
	return res, nil
}
