package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// VerdictFile is a gate's verdict on what a run staged, next to the staged
// manifest it judged: _staging/<run>/<layer>/<table>/<key>=<value>/_VERDICT.json.
const VerdictFile = "_VERDICT.json"

// Verdict statuses.
const (
	VerdictPassed = "passed"
	VerdictFailed = "failed"
)

// Verdict is what a gate decided about the partitions a run staged: the one record
// later tasks (publish, the foreign key lookup) read. Reports and audits are
// telemetry; no task reads them.
type Verdict struct {
	Version   int               `json:"version"`
	Status    string            `json:"status"`
	Task      string            `json:"task"`
	RunID     string            `json:"run_id"`
	Table     string            `json:"table"`
	Partition map[string]string `json:"partition"`
	CreatedAt string            `json:"created_at"`
	// FailedChecks names the checks that failed; Error is the task's error, if any.
	FailedChecks []string `json:"failed_checks,omitempty"`
	Error        string   `json:"error,omitempty"`
	// Judged are the staged manifests the gate judged, with the sha256 of their
	// bytes when it finished ("" if missing): a rebuild changes them, and then the
	// verdict no longer holds.
	Judged []JudgedManifest `json:"judged"`
}

// JudgedManifest is one staged manifest a verdict covers.
type JudgedManifest struct {
	Manifest string `json:"manifest"`
	SHA256   string `json:"sha256"`
}

// Judgement is what a gate frame hands WriteVerdict: the gate, the run, the
// staged partition of Table in each of Layers (the verdict goes next to the
// first), and what failed. No failed check and no error is a pass.
type Judgement struct {
	Task, RunID, Table, Key, Value string
	Layers                         []string
	FailedChecks                   []string
	Error                          string
	Now                            time.Time
}

// VerdictPath is where the gate of run writes its verdict on layer/table/key=value.
func VerdictPath(runID, layer, table, key, value string) string {
	return path.Join(StagingDir(runID, layer, table, key, value), VerdictFile)
}

// WriteVerdict records a gate's judgement, hashing the staged manifests it covers
// as they are now, and returns the verdict's path.
func WriteVerdict(ctx context.Context, l Lake, j Judgement) (string, error) {
	if len(j.Layers) == 0 {
		return "", fmt.Errorf("verdict of %s on %s: no layer judged", j.Task, j.Table)
	}
	v := Verdict{Version: ManifestVersion, Status: VerdictPassed, Task: j.Task, RunID: j.RunID, Table: j.Table,
		Partition: map[string]string{j.Key: j.Value}, CreatedAt: j.Now.UTC().Format(time.RFC3339Nano),
		FailedChecks: j.FailedChecks, Error: j.Error, Judged: []JudgedManifest{}}
	if len(j.FailedChecks) > 0 || j.Error != "" {
		v.Status = VerdictFailed
	}
	for _, layer := range j.Layers {
		mp := path.Join(StagingDir(j.RunID, layer, j.Table, j.Key, j.Value), ManifestFile)
		sum, err := manifestSHA256(ctx, l, mp)
		if err != nil {
			return "", fmt.Errorf("verdict of %s on %s: %w", j.Task, mp, err)
		}
		v.Judged = append(v.Judged, JudgedManifest{Manifest: mp, SHA256: sum})
	}
	p := VerdictPath(j.RunID, j.Layers[0], j.Table, j.Key, j.Value)
	if _, err := WriteBytes(ctx, l, p, EncodeJSON(&v), Precondition{}); err != nil {
		return "", fmt.Errorf("write verdict %s: %w", p, err)
	}
	return p, nil
}

// manifestSHA256 is the hex sha256 of the object at p, "" if it does not exist.
func manifestSHA256(ctx context.Context, l Lake, p string) (string, error) {
	b, err := ReadAll(ctx, l, p)
	if errors.Is(err, ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// GateResult is a verdict as a later task sees it.
type GateResult struct {
	// Passed: the gate passed and everything it judged is still staged unchanged.
	Passed bool
	// Missing: no verdict at all (the gate has not run, or staging was cleaned).
	Missing bool
	// Why says, when not passed, why not, in a phrase naming the gate and the run.
	Why string
	// Verdict is the verdict read, nil when Missing.
	Verdict *Verdict
}

// ReadVerdict is the one reader of gate verdicts, with one policy: a missing
// verdict, a failed one, or one whose judged manifests have changed since is "not
// passed" (GateResult says why); a verdict that cannot be read or parsed is an
// error (infrastructure: the lake or the file is broken, and guessing either way
// would hide it).
func ReadVerdict(ctx context.Context, l Lake, task, runID, layer, table, key, value string) (GateResult, error) {
	p := VerdictPath(runID, layer, table, key, value)
	b, err := ReadAll(ctx, l, p)
	if errors.Is(err, ErrNotExist) {
		return GateResult{Missing: true, Why: fmt.Sprintf("no %s verdict for run %s at %s (run the gate first)", task, runID, p)}, nil
	}
	if err != nil {
		return GateResult{}, fmt.Errorf("read verdict %s: %w", p, err)
	}
	var v Verdict
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return GateResult{}, fmt.Errorf("parse verdict %s: %w", p, err)
	}
	switch {
	case v.Version != ManifestVersion:
		return GateResult{}, fmt.Errorf("verdict %s: unsupported version %d (want %d)", p, v.Version, ManifestVersion)
	case v.Status != VerdictPassed && v.Status != VerdictFailed:
		return GateResult{}, fmt.Errorf("verdict %s: unknown status %q", p, v.Status)
	case v.Task != task || v.RunID != runID:
		return GateResult{}, fmt.Errorf("verdict %s: written by %s of run %s, want %s of run %s", p, v.Task, v.RunID, task, runID)
	}
	res := GateResult{Verdict: &v}
	if v.Status == VerdictFailed {
		cause := strings.Join(v.FailedChecks, ", ")
		if cause == "" {
			cause = v.Error
		}
		res.Why = fmt.Sprintf("the %s gate failed for run %s (%s)", task, runID, cause)
		return res, nil
	}
	for _, j := range v.Judged {
		sum, err := manifestSHA256(ctx, l, j.Manifest)
		if err != nil {
			return GateResult{}, fmt.Errorf("verdict %s: read judged %s: %w", p, j.Manifest, err)
		}
		if sum == "" || sum != j.SHA256 {
			res.Why = fmt.Sprintf("%s of run %s changed since the %s gate passed it (rebuilt?): run the gate again", j.Manifest, runID, task)
			return res, nil
		}
	}
	res.Passed = true
	return res, nil
}
