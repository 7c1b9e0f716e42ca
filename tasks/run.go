package tasks

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
)

// Frame names a task run for RunFrame.
type Frame struct {
	Task, Table, Partition string
	// Log adds key-value context to the task's logger.
	Log []any
	// NoAudit leaves no audit behind (a dry run changes nothing, so records nothing).
	NoAudit bool
}

// Run is the frame of every task: it gives body a logger carrying run_id, task,
// table and partition and an audit record to fill, times it, records its status
// and exit code, and writes the audit to the lake.
func (e *Env) Run(ctx context.Context, task, table, partition string, body func(rec *audit.Record, log *slog.Logger) error) (*audit.Record, error) {
	return e.RunFrame(ctx, Frame{Task: task, Table: table, Partition: partition}, body)
}

// RunFrame is Run with extra log context or without an audit. A failed audit
// write is logged and fails the task as infrastructure (exit 1), whatever the
// body returned: the audit is what publish and the operator read, so a retry must
// run the task again. The body's own error stays in the message.
func (e *Env) RunFrame(ctx context.Context, f Frame, body func(rec *audit.Record, log *slog.Logger) error) (*audit.Record, error) {
	log := e.Log.With(append([]any{"task", f.Task, "table", f.Table, "partition", f.Partition, "run_id", e.RunID}, f.Log...)...)
	rec := &audit.Record{RunID: e.RunID, Task: f.Task, Table: f.Table, Partition: f.Partition,
		SpecSHA256: e.Spec.SHA256, WorkerVersion: e.Version, Inputs: []audit.IO{}, Outputs: []audit.IO{}}
	started := e.Clock()
	err := body(rec, log)
	end := e.Clock()
	rec.StartedAt, rec.FinishedAt = started.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
	rec.DurationMS = end.Sub(started).Milliseconds()
	rec.PeakRSSBytes = audit.PeakRSS()
	rec.Status, rec.ExitCode = audit.StatusSuccess, fail.Code(err)
	switch {
	case err != nil && rec.ExitCode == fail.Nothing:
		rec.Status, rec.Error = audit.StatusSkipped, oneLine(err.Error())
	case err != nil:
		rec.Status, rec.Error = audit.StatusFailed, oneLine(err.Error())
	}
	if f.NoAudit {
		return rec, err
	}
	if _, werr := audit.WriteRecord(ctx, e.Lake, rec); werr != nil {
		log.Error("audit not written", "error", werr)
		err = writeFailed(fmt.Sprintf("%s %s partition %s: write audit", f.Task, f.Table, f.Partition), werr, err)
	}
	return rec, err
}

// writeFailed is the error of a task whose audit or report write failed: an
// infrastructure failure (exit 1) that keeps what the task itself returned.
func writeFailed(what string, werr, taskErr error) error {
	if taskErr == nil {
		return fail.Infra(fmt.Errorf("%s: %w", what, werr))
	}
	return fail.Infra(fmt.Errorf("%s: %w (the task had failed: %v)", what, werr, taskErr))
}

// oneLine is an error as the audit's one-line cause.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Gate is the frame of a validation task: Run, plus a report that body fills with
// checks. The report is written whatever happens; a failed check makes the gate
// fail with a data error (exit 3) whose one line names what, table, partition and
// every failed check; each warning is logged.
func (e *Env) Gate(ctx context.Context, task, what, table, partition string, body func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error) (*audit.Record, *audit.Report, error) {
	rep := &audit.Report{RunID: e.RunID, Task: task, Table: table, Partition: partition}
	rec, err := e.Run(ctx, task, table, partition, func(rec *audit.Record, log *slog.Logger) error {
		err := body(rec, rep, log)
		rep.Finish(e.Clock())
		if fail.Code(err) == fail.Nothing {
			rep.Status = audit.StatusSkipped // nothing was there to check
		}
		if err == nil && rep.Status == audit.Fail {
			err = fail.Data(fmt.Errorf("%s %s partition %s: %s", what, table, partition, strings.Join(rep.FailedMessages(), "; ")))
		}
		if uri, werr := audit.WriteReport(ctx, e.Lake, rep); werr != nil {
			log.Error("report not written", "error", werr)
			err = writeFailed(fmt.Sprintf("%s %s partition %s: write report", task, table, partition), werr, err)
		} else {
			rec.Report = uri
		}
		for _, c := range rep.Checks {
			if c.Status == audit.Warn {
				log.Warn("check warns", "check", c.Name, "message", c.Message)
			}
		}
		return err
	})
	return rec, rep, err
}
