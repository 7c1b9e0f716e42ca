package tasks

import (
	"context"
	"log/slog"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/lake"
)

// Judged names what a gate judges: partition key=<partition> of its table as this
// run staged it in each of Layers. The verdict goes next to the first layer's.
type Judged struct {
	Key    string
	Layers []string
}

// GateStaged is Gate for a gate whose verdict later tasks act on: once body has
// run it writes the verdict (lake.WriteVerdict) in the run's staging, passed when
// body returned no error and no check failed. Publish and the foreign key lookup
// read that verdict (lake.ReadVerdict), never the report. A verdict that cannot be
// written fails the gate.
func (e *Env) GateStaged(ctx context.Context, task, what, table, partition string, j Judged, body func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error) (*audit.Record, *audit.Report, error) {
	return e.Gate(ctx, task, what, table, partition, func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error {
		err := body(rec, rep, log)
		jm := lake.Judgement{Task: task, RunID: e.RunID, Table: table, Key: j.Key, Value: partition,
			Layers: j.Layers, FailedChecks: failedChecks(rep), Now: e.Clock()}
		if err != nil {
			jm.Error = err.Error()
		}
		if _, werr := lake.WriteVerdict(ctx, e.Lake, jm); werr != nil {
			log.Error("verdict not written", "error", werr)
			if err == nil {
				err = werr
			}
		}
		return err
	})
}

// failedChecks names the report's failed checks (Gate finishes the report after
// body, so its status is not set yet).
func failedChecks(rep *audit.Report) []string {
	var out []string
	for _, c := range rep.Checks {
		if c.Status == audit.Fail {
			out = append(out, c.Name)
		}
	}
	return out
}
