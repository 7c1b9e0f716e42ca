// Package audit holds the records every task leaves behind (DESIGN section 6): the
// JSON audit, the validation report of a gate, and where they live in the lake.
package audit

import (
	"context"
	"fmt"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
)

// Statuses of a task and of a check.
const (
	StatusSuccess = "success"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"

	Pass = "pass"
	Warn = "warn"
	Fail = "fail"
)

// IO is one input or output of a task.
type IO struct {
	URI  string `json:"uri"`
	Rows int64  `json:"rows"`
}

// Record is a task's audit.
type Record struct {
	RunID            string `json:"run_id"`
	Task             string `json:"task"`
	Table            string `json:"table"`
	Partition        string `json:"partition"`
	Status           string `json:"status"`
	StartedAt        string `json:"started_at"`
	FinishedAt       string `json:"finished_at"`
	DurationMS       int64  `json:"duration_ms"`
	RowsIn           int64  `json:"rows_in"`
	RowsOut          int64  `json:"rows_out"`
	RowsQuarantined  int64  `json:"rows_quarantined"`
	RowsDeduplicated int64  `json:"rows_deduplicated"`
	PeakRSSBytes     int64  `json:"peak_rss_bytes"`
	Inputs           []IO   `json:"inputs"`
	Outputs          []IO   `json:"outputs"`
	SpecSHA256       string `json:"spec_sha256"`
	WorkerVersion    string `json:"worker_version"`
	// Error is the failure's one-line cause, when Status is failed.
	Error string `json:"error,omitempty"`
	// ExitCode is the code the task exited (or would exit) with.
	ExitCode int `json:"exit_code"`
	// Report is the URI of the task's validation report, for gates.
	Report string `json:"report,omitempty"`
	// Reasons counts quarantined rows by reason code (silver builds).
	Reasons map[string]int64 `json:"reasons,omitempty"`
	// Orphans are, per foreign key that quarantines its orphans, the rows it sent
	// to quarantine and the parent keys they miss most (silver builds).
	Orphans []Orphans `json:"fk_orphans,omitempty"`
	// Published says how a publish placed the staged files in their run folders:
	// files, bytes, and the bytes it did not copy (hard links, server-side copies).
	Published *Placement `json:"published,omitempty"`
}

// Placement counts the files a publish placed and how (lake.Commit).
type Placement = lake.Placement

// Orphans are the rows of one foreign key whose parent key is missing (the
// manifest's build counts carry the same, so one type serves both).
type Orphans = lake.Orphans

// KeyCount is a key (values joined by "|") and how many rows carry it.
type KeyCount = lake.KeyCount

// Check is one check of a validation report.
type Check struct {
	Name       string   `json:"name"`
	Status     string   `json:"status"`
	Observed   any      `json:"observed"`
	Threshold  any      `json:"threshold"`
	Message    string   `json:"message"`
	SampleKeys []string `json:"sample_keys,omitempty"`
	// TopMissing are a foreign key check's most frequent missing parent keys.
	TopMissing []KeyCount `json:"top_missing,omitempty"`
	// Reasons are the top quarantine reasons behind a silver gate's rate checks.
	Reasons []Reason `json:"reasons,omitempty"`
}

// Reason is one reject reason of a silver partition's quarantine: its rows and a
// few distinct raw values of the column it names, most frequent first (nil: NULL).
type Reason struct {
	Reason  string    `json:"reason"`
	Rows    int64     `json:"rows"`
	Column  string    `json:"column,omitempty"`
	Samples []*string `json:"samples,omitempty"`
}

// String is the reason as a message shows it: "cast_failed:speed 3229, e.g. 'NA', 'n/a'".
func (r Reason) String() string {
	s := fmt.Sprintf("%s %d", r.Reason, r.Rows)
	if len(r.Samples) == 0 {
		return s
	}
	shown := make([]string, len(r.Samples))
	for i, v := range r.Samples {
		shown[i] = Sample(v)
	}
	return s + ", e.g. " + strings.Join(shown, ", ")
}

// Report is a gate's validation report.
type Report struct {
	RunID     string  `json:"run_id"`
	Task      string  `json:"task"`
	Table     string  `json:"table"`
	Partition string  `json:"partition"`
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`
	Checks    []Check `json:"checks"`
}

// Add appends a check.
func (r *Report) Add(c Check) { r.Checks = append(r.Checks, c) }

// Finish sets the report's status from its checks (fail if any failed) and its
// creation time, which a failed report needs as much as a passing one.
func (r *Report) Finish(now time.Time) {
	r.CreatedAt = now.UTC().Format(time.RFC3339Nano)
	r.Status = Pass
	for _, c := range r.Checks {
		if c.Status == Fail {
			r.Status = Fail
			return
		}
		if c.Status == Warn && r.Status == Pass {
			r.Status = Warn
		}
	}
}

// Failed lists the names of failed checks.
func (r *Report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.Name)
		}
	}
	return out
}

// FailedMessages lists "name: message" of failed checks.
func (r *Report) FailedMessages() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.Name+": "+c.Message)
		}
	}
	return out
}

// AuditPath is _audit/dt=<partition>/<run_id>/<task>.<table>.json.
func AuditPath(partition, runID, task, table string) string {
	return path.Join("_audit", "dt="+partition, runID, task+"."+table+".json")
}

// ReportPath is _reports/dt=<partition>/<run_id>/<task>.<table>.json.
func ReportPath(partition, runID, task, table string) string {
	return path.Join("_reports", "dt="+partition, runID, task+"."+table+".json")
}

// WriteRecord stores an audit in the lake and returns its URI.
func WriteRecord(ctx context.Context, l lake.Lake, r *Record) (string, error) {
	p := AuditPath(r.Partition, r.RunID, r.Task, r.Table)
	if _, err := lake.WriteBytes(ctx, l, p, lake.EncodeJSON(r), lake.Precondition{}); err != nil {
		return "", fmt.Errorf("write audit %s: %w", p, err)
	}
	return l.URI(p), nil
}

// WriteReport stores a validation report in the lake and returns its URI.
func WriteReport(ctx context.Context, l lake.Lake, r *Report) (string, error) {
	p := ReportPath(r.Partition, r.RunID, r.Task, r.Table)
	if _, err := lake.WriteBytes(ctx, l, p, lake.EncodeJSON(r), lake.Precondition{}); err != nil {
		return "", fmt.Errorf("write report %s: %w", p, err)
	}
	return l.URI(p), nil
}

// PeakRSS is the process's peak resident set size in bytes.
func PeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // Linux reports kilobytes
}
