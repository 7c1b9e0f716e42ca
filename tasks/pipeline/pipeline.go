// Package pipeline runs the task graph in-process (`worker run`, `worker demo`):
// the spec's graph (the same one the generated DAGs use), partition by partition,
// going on past a failed gate with whatever does not depend on it (DESIGN section 5).
package pipeline

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// Options select the partitions and stages to run.
type Options struct {
	Partitions []string
	// From and To bound the stages (layers) to run; empty means all.
	From, To string
	// Progress, when set, receives one line per step as it starts (a terminal).
	Progress io.Writer
}

// Step is one task of the plan: a graph node for one partition.
type Step struct {
	Node      spec.Node
	Partition string
}

// ID names the step as logs and summaries do: "silver.build.orders 2026-11-20".
func (s Step) ID() string { return s.Node.ID + " " + s.Partition }

// Outcome statuses beyond audit's success/failed/skipped.
const (
	// StatusNothing is a step that had nothing to do (exit 4), e.g. a fresh dim.
	StatusNothing = "nothing to do"
)

// Outcome is what happened to one step.
type Outcome struct {
	Step     Step
	Status   string // success, failed, skipped, nothing to do
	Code     int
	Err      error
	Record   *audit.Record
	Duration time.Duration
	// SkippedBecause names the step a skipped step depended on.
	SkippedBecause string
}

// Result is a whole run.
type Result struct {
	Outcomes []Outcome
	Code     int
}

// Failed counts failed steps.
func (r *Result) Failed() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == audit.StatusFailed {
			n++
		}
	}
	return n
}

// Err turns the run's worst exit code into an error for main: one line that
// names the first failed step and its cause (nil when the run succeeded).
func (r *Result) Err() error {
	if r.Code == fail.OK {
		return nil
	}
	var first *Outcome
	for i := range r.Outcomes {
		if r.Outcomes[i].Err != nil && r.Outcomes[i].Code != fail.Nothing {
			first = &r.Outcomes[i]
			break
		}
	}
	if first == nil {
		return &fail.Error{Code: r.Code, Err: fmt.Errorf("run finished with exit code %d", r.Code)}
	}
	more := ""
	if n := r.Failed(); n > 1 {
		more = fmt.Sprintf(" (and %d more failed step(s); see the summary)", n-1)
	}
	return &fail.Error{Code: r.Code, Err: fmt.Errorf("run failed at %s: %v%s", first.Step.ID(), first.Err, more)}
}

// Dates expands an inclusive date range.
func Dates(start, end string) ([]string, error) {
	s, err := lake.ParseDate(start)
	if err != nil {
		return nil, err
	}
	e, err := lake.ParseDate(end)
	if err != nil {
		return nil, err
	}
	if e.Before(s) {
		return nil, fmt.Errorf("end %s is before start %s", end, start)
	}
	var out []string
	for d := s; !d.After(e); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out, nil
}

// Plan lists the steps of a run in execution order: partitions in date order, and
// within a partition the graph's topological order (FK parents first).
func Plan(env *tasks.Env, o Options) ([]Step, error) {
	from, to, err := stageRange(o.From, o.To)
	if err != nil {
		return nil, err
	}
	nodes, err := env.Spec.Graph().TopoOrder()
	if err != nil {
		return nil, fail.Usage(err)
	}
	parts := append([]string(nil), o.Partitions...)
	sort.Strings(parts)
	var steps []Step
	for _, d := range parts {
		if _, err := lake.ParseDate(d); err != nil {
			return nil, fail.Usage(err)
		}
		for _, n := range nodes {
			if r := stageRank(n.Layer); r < from || r > to {
				continue
			}
			if _, ok := executors[n.Task]; !ok {
				return nil, fmt.Errorf("plan: task %s has no executor in this worker", n.ID)
			}
			steps = append(steps, Step{Node: n, Partition: d})
		}
	}
	return steps, nil
}

// Stages are the layers a run can be bounded by, in order.
func Stages() []string { return spec.Layers() }

func stageRank(layer string) int {
	for i, s := range Stages() {
		if s == layer {
			return i
		}
	}
	return len(Stages())
}

func stageRange(from, to string) (int, int, error) {
	idx := func(s string, def int) (int, error) {
		if s == "" {
			return def, nil
		}
		if r := stageRank(s); r < len(Stages()) {
			return r, nil
		}
		return 0, fail.Usage(fmt.Errorf("unknown stage %q (want one of %s)", s, strings.Join(Stages(), ", ")))
	}
	f, err := idx(from, 0)
	if err != nil {
		return 0, 0, err
	}
	t, err := idx(to, len(Stages())-1)
	if err != nil {
		return 0, 0, err
	}
	if f > t {
		return 0, 0, fail.Usage(fmt.Errorf("stage %s comes after %s", from, to))
	}
	return f, t, nil
}

// Run executes the plan. A step is skipped when one of its dependencies in the
// same partition did not succeed, or when a publish it depends on (through any
// path) did not succeed for an earlier partition of this run: later partitions read
// history (FK parents up to D, as-of transforms), so they would be built on a gap.
// An incremental transform's build is skipped likewise after its own publish of
// an earlier partition failed: it builds on its partition D-1. Partitions run in
// date order, so a backfill from day k rebuilds k, k+1, ... in turn.
func Run(ctx context.Context, env *tasks.Env, o Options) (*Result, error) {
	steps, err := Plan(env, o)
	if err != nil {
		return nil, err
	}
	g := env.Spec.Graph()
	res := &Result{}
	status := map[string]Outcome{}       // step id -> outcome
	brokenPublish := map[string]string{} // publish node id -> first failing step
	ancestors := map[string][]string{}   // node id -> publish ancestors (cache)
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		out := Outcome{Step: st}
		why, nothing := blockedBy(g, st, status, brokenPublish, ancestors)
		if why == "" {
			why = brokenPast(env.Spec, st, brokenPublish)
		}
		switch {
		case why != "":
			out.Status, out.SkippedBecause = audit.StatusSkipped, why
		case nothing:
			out.Status, out.Code = StatusNothing, fail.Nothing
		default:
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "[%*d/%d] %s\n", len(fmt.Sprint(len(steps))), i+1, len(steps), st.ID())
			}
			start := time.Now()
			out.Record, out.Err = executors[st.Node.Task](ctx, env, st)
			out.Duration = time.Since(start)
			out.Code = fail.Code(out.Err)
			switch {
			case out.Err == nil:
				out.Status = audit.StatusSuccess
			case out.Code == fail.Nothing:
				out.Status = StatusNothing
				env.Log.Info("step had nothing to do", "run_id", env.RunID, "task", st.Node.Task, "table", st.Node.Table,
					"partition", st.Partition, "reason", out.Err.Error())
			default:
				out.Status = audit.StatusFailed
				res.Code = fail.Worst(res.Code, out.Code)
				env.Log.Error("step failed; what depends on it is skipped", "run_id", env.RunID, "task", st.Node.Task,
					"table", st.Node.Table, "partition", st.Partition, "exit_code", out.Code, "error", out.Err.Error())
			}
		}
		if out.Status == audit.StatusFailed || out.Status == audit.StatusSkipped {
			if st.Node.Task == spec.TaskPublish {
				if _, ok := brokenPublish[st.Node.ID]; !ok {
					brokenPublish[st.Node.ID] = st.ID()
				}
			}
		}
		status[st.ID()] = out
		res.Outcomes = append(res.Outcomes, out)
	}
	return res, nil
}

// blockedBy says which step st must skip for, or whether it has nothing to do
// because the step it publishes had nothing to do (a fresh dim).
func blockedBy(g *spec.Graph, st Step, status map[string]Outcome, brokenPublish map[string]string, cache map[string][]string) (string, bool) {
	nothing := false
	for _, dep := range g.Deps(st.Node.ID) {
		o, ok := status[dep+" "+st.Partition]
		if !ok {
			continue // outside the stage range: assumed done earlier
		}
		switch o.Status {
		case audit.StatusFailed:
			return o.Step.ID(), false
		case audit.StatusSkipped:
			return o.SkippedBecause, false
		case StatusNothing:
			if st.Node.Task == spec.TaskPublish {
				nothing = true
			}
		}
	}
	for _, p := range publishAncestors(g, st.Node.ID, cache) {
		if why, ok := brokenPublish[p]; ok {
			return why, false
		}
	}
	return "", nothing
}

// brokenPast names the failed step an incremental transform's build must skip
// for: its own publish broke in an earlier partition of the run, and partition D
// builds on D-1. "" for any other step.
func brokenPast(s *spec.Spec, st Step, brokenPublish map[string]string) string {
	if st.Node.Task != spec.TaskEnrichedBuild {
		return ""
	}
	if t, ok := s.Transform(st.Node.Table); ok && t.Incremental {
		return brokenPublish[spec.PublishID(spec.LayerEnriched, t.Name)]
	}
	return ""
}

// publishAncestors lists the publish nodes a node depends on through any path.
func publishAncestors(g *spec.Graph, id string, cache map[string][]string) []string {
	if v, ok := cache[id]; ok {
		return v
	}
	seen := map[string]bool{}
	var out []string
	var visit func(string)
	visit = func(n string) {
		for _, d := range g.Deps(n) {
			if seen[d] {
				continue
			}
			seen[d] = true
			if node, _ := g.Node(d); node.Task == spec.TaskPublish {
				out = append(out, d)
			}
			visit(d)
		}
	}
	visit(id)
	sort.Strings(out)
	cache[id] = out
	return out
}

// PrintPlan writes the plan, one step per line.
func PrintPlan(w io.Writer, steps []Step) {
	for i, st := range steps {
		fmt.Fprintf(w, "%3d  %-40s %s\n", i+1, st.Node.ID, st.Partition)
	}
}
