package pipeline

import (
	"errors"
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/spec"
)

// Result.Err is the run's one line for main and the run's worst exit code.
func TestResultErr(t *testing.T) {
	step := func(id string) Step { return Step{Node: spec.Node{ID: id}, Partition: "2026-11-20"} }
	failed := func(id string, code int, msg string) Outcome {
		return Outcome{Step: step(id), Status: audit.StatusFailed, Code: code, Err: errors.New(msg)}
	}
	nothing := Outcome{Step: step("dims.snapshot.customers"), Status: StatusNothing, Code: fail.Nothing, Err: errors.New("fresh")}
	for _, c := range []struct {
		name     string
		res      Result
		wantCode int
		want     string
	}{
		{"success", Result{Outcomes: []Outcome{{Step: step("a"), Status: audit.StatusSuccess}}}, fail.OK, ""},
		{"nothing to do is not a failure", Result{Outcomes: []Outcome{nothing}}, fail.OK, ""},
		{"one failure", Result{Code: fail.BadData, Outcomes: []Outcome{nothing, failed("silver.validate.orders", fail.BadData, "rate too high")}},
			fail.BadData, "run failed at silver.validate.orders 2026-11-20: rate too high"},
		{"the first failure, and how many more", Result{Code: fail.BadData, Outcomes: []Outcome{
			failed("silver.build.orders", fail.Internal, "disk full"), failed("silver.validate.payments", fail.BadData, "x")}},
			fail.BadData, "run failed at silver.build.orders 2026-11-20: disk full (and 1 more failed step(s); see the summary)"},
		{"a code without a failed step", Result{Code: fail.Internal}, fail.Internal, "run finished with exit code 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.res.Err()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != c.want || fail.Code(err) != c.wantCode {
				t.Errorf("Err() = %v (code %d), want %q (code %d)", err, fail.Code(err), c.want, c.wantCode)
			}
		})
	}
}
