// Package pipeline runs the task graph in-process (`worker run`, `worker demo`):
// every step of every partition in dependency order, going on past a failed gate
// with whatever does not depend on it (DESIGN section 5).
package pipeline

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/bronze"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// Stages, in pipeline order. A run covers the stages from From to To.
var Stages = []string{"bronze", "silver"}

// Options select the partitions and stages to run.
type Options struct {
	Partitions []string
	From, To   string
	// Progress, when set, receives one line per step as it starts (a terminal).
	Progress io.Writer
}

// Step is one task of the plan.
type Step struct {
	Task      string // bronze.validate, silver.build, silver.validate, publish.silver
	Table     string
	Partition string
	// Silver is the silver table the step serves (bronze gates serve their readers).
	Silver string
}

// ID names the step as logs and summaries do.
func (s Step) ID() string { return s.Task + " " + s.Table + " " + s.Partition }

// Outcome is what happened to one step.
type Outcome struct {
	Step     Step
	Status   string // success, failed, skipped
	Code     int
	Err      error
	Record   *audit.Record
	Duration time.Duration
	// SkippedBecause names the failed step a skipped step depended on.
	SkippedBecause string
}

// Result is a whole run.
type Result struct {
	Outcomes []Outcome
	Code     int
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
// within a partition the silver tables with FK parents first; each table's bronze
// gate, build, gate and publish in turn.
func Plan(env *tasks.Env, o Options) ([]Step, error) {
	from, to, err := stageRange(o.From, o.To)
	if err != nil {
		return nil, err
	}
	parts := append([]string(nil), o.Partitions...)
	sort.Strings(parts)
	order := env.Spec.Graph().SilverOrder()
	var steps []Step
	for _, d := range parts {
		if _, err := lake.ParseDate(d); err != nil {
			return nil, fail.Usage(err)
		}
		gated := map[string]bool{}
		for _, name := range order {
			t, _ := env.Spec.SilverTable(name)
			if from <= 0 && 0 <= to && !gated[t.Source] {
				steps = append(steps, Step{Task: bronze.ValidateTask, Table: t.Source, Partition: d, Silver: name})
				gated[t.Source] = true
			}
			if from <= 1 && 1 <= to {
				steps = append(steps,
					Step{Task: silver.TaskBuild, Table: name, Partition: d, Silver: name},
					Step{Task: silver.TaskValidate, Table: name, Partition: d, Silver: name},
					Step{Task: publish.Task(lake.Silver), Table: name, Partition: d, Silver: name})
			}
		}
	}
	return steps, nil
}

func stageRange(from, to string) (int, int, error) {
	idx := func(s string, def int) (int, error) {
		if s == "" {
			return def, nil
		}
		for i, st := range Stages {
			if st == s {
				return i, nil
			}
		}
		return 0, fail.Usage(fmt.Errorf("unknown stage %q (want one of %s)", s, strings.Join(Stages, ", ")))
	}
	f, err := idx(from, 0)
	if err != nil {
		return 0, 0, err
	}
	t, err := idx(to, len(Stages)-1)
	if err != nil {
		return 0, 0, err
	}
	if f > t {
		return 0, 0, fail.Usage(fmt.Errorf("stage %s comes after %s", from, to))
	}
	return f, t, nil
}

// Run executes the plan. A failed step makes every step that depends on it skip:
// the rest of its table's chain in that partition, the silver tables reading the
// same bronze gate, and FK children (transitively) in that and later partitions.
func Run(ctx context.Context, env *tasks.Env, o Options) (*Result, error) {
	steps, err := Plan(env, o)
	if err != nil {
		return nil, err
	}
	children := fkChildren(env)
	res := &Result{}
	// failedAt: silver table -> first partition where its chain failed.
	failedAt := map[string]string{}
	failedChain := map[string]string{} // silver table + "/" + partition -> failing step
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		out := Outcome{Step: st}
		if why := blocked(st, failedAt, failedChain); why != "" {
			out.Status, out.SkippedBecause, out.Code = audit.StatusSkipped, why, fail.OK
			res.Outcomes = append(res.Outcomes, out)
			continue
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "[%*d/%d] %s\n", len(fmt.Sprint(len(steps))), i+1, len(steps), st.ID())
		}
		start := time.Now()
		out.Record, out.Err = execute(ctx, env, st)
		out.Duration = time.Since(start)
		out.Code = fail.Code(out.Err)
		out.Status = audit.StatusSuccess
		if out.Err != nil {
			out.Status = audit.StatusFailed
			res.Code = fail.Worst(res.Code, out.Code)
			env.Log.Error("step failed; dependents will be skipped", "step", st.ID(), "err", out.Err)
			affected := []string{st.Silver}
			if st.Task == bronze.ValidateTask {
				affected = readersOf(env, st.Table)
			}
			for _, t := range affected {
				failedChain[t+"/"+st.Partition] = st.ID()
				markFailed(failedAt, children, t, st.Partition, st.ID())
			}
		} else if out.Code == fail.Nothing {
			res.Code = fail.Worst(res.Code, out.Code)
		}
		res.Outcomes = append(res.Outcomes, out)
	}
	return res, nil
}

// blocked says which failed step a step depends on, or "".
func blocked(st Step, failedAt, failedChain map[string]string) string {
	if st.Task == bronze.ValidateTask {
		return ""
	}
	if why := failedChain[st.Silver+"/"+st.Partition]; why != "" {
		return why
	}
	if why, ok := failedAt[st.Silver]; ok && why != "" {
		// markFailed stores "partition|step" for FK descendants.
		p, step, _ := strings.Cut(why, "|")
		if p <= st.Partition {
			return step
		}
	}
	return ""
}

// markFailed records that table's chain failed at partition d, for every FK
// descendant of table (the table itself is handled per partition).
func markFailed(failedAt map[string]string, children map[string][]string, table, d, step string) {
	var visit func(string)
	seen := map[string]bool{}
	visit = func(t string) {
		for _, c := range children[t] {
			if seen[c] {
				continue
			}
			seen[c] = true
			if prev, ok := failedAt[c]; !ok || prev > d+"|" {
				failedAt[c] = d + "|" + step
			}
			visit(c)
		}
	}
	visit(table)
}

// readersOf lists the silver tables built from a bronze table.
func readersOf(env *tasks.Env, bronzeTable string) []string {
	var out []string
	for _, t := range env.Spec.BaseSilver.Tables {
		if t.Source == bronzeTable {
			out = append(out, t.Name)
		}
	}
	return out
}

func fkChildren(env *tasks.Env) map[string][]string {
	out := map[string][]string{}
	for _, t := range env.Spec.BaseSilver.Tables {
		for _, fk := range t.ForeignKeys {
			out[fk.ParentTable()] = append(out[fk.ParentTable()], t.Name)
		}
	}
	return out
}

// execute runs one step.
func execute(ctx context.Context, env *tasks.Env, st Step) (*audit.Record, error) {
	switch st.Task {
	case bronze.ValidateTask:
		rec, _, err := bronze.Validate(ctx, env, bronze.ValidateOptions{Table: st.Table, Partition: st.Partition})
		return rec, err
	case silver.TaskBuild:
		return silver.Build(ctx, env, silver.Options{Table: st.Table, Partition: st.Partition})
	case silver.TaskValidate:
		rec, _, err := silver.Validate(ctx, env, silver.Options{Table: st.Table, Partition: st.Partition})
		return rec, err
	case publish.Task(lake.Silver):
		return publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: st.Table, Partition: st.Partition})
	}
	return nil, fmt.Errorf("unknown step %s", st.Task)
}

// PrintPlan writes the plan, one step per line.
func PrintPlan(w io.Writer, steps []Step) {
	for i, st := range steps {
		fmt.Fprintf(w, "%3d  %-18s %-14s %s\n", i+1, st.Task, st.Table, st.Partition)
	}
}

// PrintSummary writes one row per silver table and partition: what the build
// counted and how far the table got.
func PrintSummary(w io.Writer, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "partition\ttable\tstatus\trows_in\trows_out\tquarantined\tdeduplicated\ttime\t")
	type row struct {
		part, table, status string
		rec                 *audit.Record
		dur                 time.Duration
	}
	var rows []*row
	idx := map[string]*row{}
	for _, o := range r.Outcomes {
		if o.Step.Task == bronze.ValidateTask {
			continue
		}
		k := o.Step.Partition + "/" + o.Step.Silver
		rw := idx[k]
		if rw == nil {
			rw = &row{part: o.Step.Partition, table: o.Step.Silver, status: "published"}
			idx[k] = rw
			rows = append(rows, rw)
		}
		rw.dur += o.Duration
		if o.Step.Task == silver.TaskBuild && o.Record != nil && o.Err == nil {
			rw.rec = o.Record
		}
		switch {
		case o.Status == audit.StatusFailed && rw.status == "published":
			rw.status = "FAILED " + o.Step.Task
		case o.Status == audit.StatusSkipped && rw.status == "published":
			rw.status = "skipped"
		}
	}
	// Tables whose bronze gate failed before any of their steps ran.
	for _, o := range r.Outcomes {
		if o.Step.Task == bronze.ValidateTask && o.Status == audit.StatusFailed {
			if rw := idx[o.Step.Partition+"/"+o.Step.Silver]; rw != nil && rw.status == "skipped" {
				rw.status = "FAILED bronze gate"
			}
		}
	}
	for _, rw := range rows {
		if rw.rec == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\t%s\t\n", rw.part, rw.table, rw.status, rw.dur.Round(time.Millisecond))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", rw.part, rw.table, rw.status,
			rw.rec.RowsIn, rw.rec.RowsOut, rw.rec.RowsQuarantined, rw.rec.RowsDeduplicated, rw.dur.Round(time.Millisecond))
	}
	tw.Flush()
	var failed, skipped int
	for _, o := range r.Outcomes {
		switch o.Status {
		case audit.StatusFailed:
			failed++
			fmt.Fprintf(w, "failed: %s: %v\n", o.Step.ID(), o.Err)
		case audit.StatusSkipped:
			skipped++
		}
	}
	fmt.Fprintf(w, "%d steps: %d succeeded, %d failed, %d skipped\n", len(r.Outcomes), len(r.Outcomes)-failed-skipped, failed, skipped)
}
