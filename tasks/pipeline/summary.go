package pipeline

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/spec"
)

// buildTasks are the steps whose audit carries a table's row counts.
var buildTasks = map[string]bool{spec.TaskSilverBuild: true, spec.TaskDimsSnapshot: true, spec.TaskEnrichedBuild: true, spec.TaskGoldBuild: true}

// PrintSummary writes one row per layer, table and partition: the counts of its
// build and how far it got, then the failures, one line each.
func PrintSummary(w io.Writer, r *Result) {
	type row struct {
		part, layer, table, status string
		rec                        *audit.Record
		dur                        time.Duration
	}
	var rows []*row
	idx := map[string]*row{}
	for _, o := range r.Outcomes {
		n := o.Step.Node
		if n.Task == spec.TaskBronzeValidate || n.Task == spec.TaskGoldLoad {
			continue
		}
		k := o.Step.Partition + "/" + n.Layer + "/" + n.Table
		rw := idx[k]
		if rw == nil {
			rw = &row{part: o.Step.Partition, layer: n.Layer, table: n.Table, status: "published"}
			if n.Layer == spec.LayerGold {
				rw.status = "built"
			}
			idx[k] = rw
			rows = append(rows, rw)
		}
		rw.dur += o.Duration
		if buildTasks[n.Task] && o.Record != nil && o.Err == nil {
			rw.rec = o.Record
		}
		if rw.status == "published" || rw.status == "built" {
			switch o.Status {
			case audit.StatusFailed:
				rw.status = "FAILED " + n.Task
			case audit.StatusSkipped:
				rw.status = "skipped"
			case StatusNothing:
				rw.status = "fresh, reused"
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "partition\tlayer\ttable\tstatus\trows_in\trows_out\tquarantined\tdeduplicated\ttime\t")
	for _, rw := range rows {
		if rw.rec == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t-\t-\t-\t-\t%s\t\n", rw.part, rw.layer, rw.table, rw.status, rw.dur.Round(time.Millisecond))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", rw.part, rw.layer, rw.table, rw.status,
			rw.rec.RowsIn, rw.rec.RowsOut, rw.rec.RowsQuarantined, rw.rec.RowsDeduplicated, rw.dur.Round(time.Millisecond))
	}
	tw.Flush()
	var failed, skipped, nothing int
	for _, o := range r.Outcomes {
		switch o.Status {
		case audit.StatusFailed:
			failed++
			fmt.Fprintf(w, "failed: %s: %v\n", o.Step.ID(), o.Err)
		case audit.StatusSkipped:
			skipped++
		case StatusNothing:
			nothing++
		}
	}
	fmt.Fprintf(w, "%d steps: %d succeeded, %d failed, %d skipped, %d had nothing to do\n",
		len(r.Outcomes), len(r.Outcomes)-failed-skipped-nothing, failed, skipped, nothing)
}
