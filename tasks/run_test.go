package tasks_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// auditless refuses every write under prefix (_audit/ or _reports/), as a full
// or unreachable bucket would.
type auditless struct {
	lake.Lake
	prefix string
}

func (a auditless) Write(ctx context.Context, p string, r io.Reader, pre lake.Precondition) (lake.ObjectInfo, error) {
	if strings.HasPrefix(p, a.prefix) {
		return lake.ObjectInfo{}, errors.New("bucket unreachable")
	}
	return a.Lake.Write(ctx, p, r, pre)
}

func newEnv(t *testing.T, failAudit bool) *tasks.Env {
	if failAudit {
		return newEnvFailing(t, "_audit/")
	}
	return newEnvFailing(t, "")
}

// newEnvFailing is an env whose lake refuses writes under prefix ("" refuses none).
func newEnvFailing(t *testing.T, prefix string) *tasks.Env {
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var lk lake.Lake = l
	if prefix != "" {
		lk = auditless{l, prefix}
	}
	return &tasks.Env{Spec: &spec.Spec{}, Lake: lk, Log: logx.Discard(), RunID: "r1", Version: "test", WorkDir: t.TempDir()}
}

// TestFailedAuditWrite pins the one policy of the frame: a failed audit or report
// write fails the task as infrastructure (exit 1) whatever the body returned, so
// Airflow retries it; a task that failed keeps its own error in the message.
func TestFailedAuditWrite(t *testing.T) {
	dataErr := fail.Data(errors.New("orders partition 2026-11-20: 3 rows lost"))
	failing := audit.Check{Name: "rows", Status: audit.Fail, Message: "3 rows lost"}
	passing := audit.Check{Name: "rows", Status: audit.Pass, Message: "no rows lost"}
	for _, tc := range []struct {
		name       string
		gate       bool
		body       error
		check      audit.Check
		failAudit  bool
		failReport bool
		code       int
		errHas     string
	}{
		{name: "task ok, audit written", code: fail.OK},
		{name: "task ok, audit lost", failAudit: true, code: fail.Internal, errHas: "write audit"},
		{name: "task failed, audit lost", body: dataErr, failAudit: true, code: fail.Internal, errHas: "write audit"},
		{name: "gate passed, audit lost", gate: true, check: passing, failAudit: true, code: fail.Internal, errHas: "write audit"},
		{name: "gate failed, audit lost", gate: true, check: failing, failAudit: true, code: fail.Internal, errHas: "3 rows lost"},
		{name: "gate failed, audit written", gate: true, check: failing, code: fail.BadData, errHas: "3 rows lost"},
		{name: "gate failed, report lost", gate: true, check: failing, failReport: true, code: fail.Internal, errHas: "write report"},
		{name: "gate passed, report lost", gate: true, check: passing, failReport: true, code: fail.Internal, errHas: "write report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, tc.failAudit)
			if tc.failReport {
				env = newEnvFailing(t, "_reports/")
			}
			var err error
			if tc.gate {
				_, _, err = env.Gate(context.Background(), "silver_validate", "silver validate", "orders", "2026-11-20",
					func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error {
						rep.Add(tc.check)
						return nil
					})
			} else {
				_, err = env.Run(context.Background(), "silver_build", "orders", "2026-11-20",
					func(rec *audit.Record, log *slog.Logger) error { return tc.body })
			}
			if got := fail.Code(err); got != tc.code {
				t.Fatalf("exit code %d, want %d (err %v)", got, tc.code, err)
			}
			if tc.errHas != "" && !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error %q does not say %q", err, tc.errHas)
			}
		})
	}
}

// TestGateSkipped: a gate with nothing to check says so in its report and audit.
func TestGateSkipped(t *testing.T) {
	env := newEnv(t, false)
	rec, rep, err := env.Gate(context.Background(), "bronze_validate", "bronze validate", "orders", "2026-11-20",
		func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error {
			rep.Add(audit.Check{Name: "manifest_exists", Status: audit.Fail, Message: "manifest did not arrive"})
			return fail.Skip(errors.New("manifest did not arrive"))
		})
	if fail.Code(err) != fail.Nothing || rep.Status != audit.StatusSkipped || rec.Status != audit.StatusSkipped {
		t.Fatalf("exit %d, report %s, audit %s; want 4, skipped, skipped", fail.Code(err), rep.Status, rec.Status)
	}
}

// TestNoAudit: a frame without an audit (gc --dry-run) writes nothing.
func TestNoAudit(t *testing.T) {
	env := newEnv(t, false)
	if _, err := env.RunFrame(context.Background(), tasks.Frame{Task: "gc", Table: "lake", Partition: "2026-11-20", NoAudit: true},
		func(rec *audit.Record, log *slog.Logger) error { return nil }); err != nil {
		t.Fatal(err)
	}
	objs, err := env.Lake.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("a frame without an audit wrote %v", objs)
	}
}
