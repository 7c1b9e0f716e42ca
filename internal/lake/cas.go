package lake

import (
	"context"
	"errors"
	"fmt"
	"path"
)

// swapResult says what swapCommitPoint did.
type swapResult struct {
	// Manifest is the commit point now in place.
	Manifest *Manifest
	// Already is true when the commit point named the run before any swap.
	Already bool
	// PreviousRunID is the run the commit point named before, if any.
	PreviousRunID string
}

// swapCommitPoint makes the partition commit point at manifestPath name runID by
// compare-and-swap on its generation (create-only when absent), retrying when a
// concurrent publisher or rollback wins a round. prepare is called with the
// current commit point (nil when absent) before each write and returns the
// manifest to write; verb names the operation in the give-up error.
func swapCommitPoint(ctx context.Context, l Lake, manifestPath, runID, verb string, step func(string),
	prepare func(cur *Manifest) *Manifest) (swapResult, error) {
	var res swapResult
	for attempt := 0; ; attempt++ {
		if attempt == maxCASAttempts {
			return res, fmt.Errorf("%s %s: gave up after %d concurrent updates", verb, manifestPath, attempt)
		}
		step("read-commit-point")
		cur, gen, err := ReadManifest(ctx, l, manifestPath)
		pre := Precondition{GenerationMatch: gen}
		switch {
		case errors.Is(err, ErrNotExist):
			cur, pre = nil, Precondition{DoesNotExist: true}
		case err != nil:
			return res, err
		case cur.RunID == runID:
			res.Manifest, res.Already = cur, true
			return res, nil
		default:
			res.PreviousRunID = cur.RunID
		}
		next := prepare(cur)
		step("swap-commit-point")
		_, err = WriteBytes(ctx, l, manifestPath, EncodeJSON(next), pre)
		if errors.Is(err, ErrPrecondition) {
			continue // another publisher or rollback won this round: re-read and retry
		}
		if err != nil {
			return res, err
		}
		res.Manifest = next
		return res, nil
	}
}

// commitPointOf is a run's manifest with its file paths made relative to the
// partition (run=<id>/...), the form the partition commit point stores.
func commitPointOf(runManifest *Manifest, runID string) Manifest {
	cp := *runManifest
	cp.Files = make([]File, len(runManifest.Files))
	for i, f := range runManifest.Files {
		f.Path = path.Join("run="+runID, f.Path)
		cp.Files[i] = f
	}
	return cp
}
