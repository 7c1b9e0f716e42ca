// Package demo is `worker demo`: generate a small shop data set with bad rows, run
// the whole pipeline on it in-process, check silver's quarantine against the
// generator's ledger, and show a few layers and marts.
package demo

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/generate"
	"github.com/shoplake/lakehouse/tasks/gold"
	"github.com/shoplake/lakehouse/tasks/pipeline"
)

// Options are the demo's data set and where it reports.
type Options struct {
	Generate generate.Options
	// Out gets the report: what was generated, the run's summary, the ledger check
	// and the queries' tables.
	Out io.Writer
	// Progress, when set, gets one line per step as it starts (a terminal).
	Progress io.Writer
	// QueryHint is the command line suggested at the end to query the lake,
	// without the SQL ("worker --lake ./lake/demo").
	QueryHint string
}

// queries are what the demo shows of the layers it built.
var queries = []struct{ title, sql string }{
	{"quarantine reasons (all days)", `SELECT _reject_reason AS reason, count(*) AS rows FROM (
  SELECT _reject_reason FROM quarantine.orders UNION ALL SELECT _reject_reason FROM quarantine.order_items
  UNION ALL SELECT _reject_reason FROM quarantine.payments UNION ALL SELECT _reject_reason FROM quarantine.cart_events)
GROUP BY 1 ORDER BY 2 DESC LIMIT 8`},
	{"enriched.daily_metrics", `SELECT * FROM enriched.daily_metrics ORDER BY ingestion_dt`},
}

// marts are the gold marts the demo shows, straight from the warehouse.
var marts = []struct{ title, sql string }{
	{"gold.fct_daily_sales", `SELECT * FROM gold.fct_daily_sales ORDER BY 1 LIMIT 5`},
	{"gold.fct_customers (top 5 by lifetime revenue)", `SELECT * FROM gold.fct_customers WHERE as_of_date = (SELECT max(as_of_date) FROM gold.fct_customers) ORDER BY lifetime_revenue DESC LIMIT 5`},
}

// Run generates, runs and checks. A failed step fails the demo with the run's exit
// code; a quarantine that differs from the ledger is an internal error (exit 1).
func Run(ctx context.Context, env *tasks.Env, o Options) error {
	w := o.Out
	g := o.Generate
	fmt.Fprintf(w, "== generate: %d days from %s, scale %g, fault rate %g, into %s\n",
		g.Days, g.Start.Format(time.DateOnly), g.Scale, g.FaultRate, env.Lake.URI(""))
	gen, err := generate.Run(ctx, env, g)
	if err != nil {
		return err
	}
	generate.PrintResult(w, gen)
	parts, err := pipeline.Dates(gen.Start, gen.End)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n== run %s: bronze gates, silver, dims, enriched and gold, per table and day (FK parents first)\n", env.RunID)
	res, err := pipeline.Run(ctx, env, pipeline.Options{Partitions: parts, Progress: o.Progress})
	if err != nil {
		return err
	}
	pipeline.PrintSummary(w, res)
	if res.Code != fail.OK {
		return res.Err()
	}
	check, err := generate.CheckLedger(ctx, env, parts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", check)
	for i, m := range append(check.Missing, check.Unexpected...) {
		if i == 10 {
			fmt.Fprintln(w, "  ...")
			break
		}
		fmt.Fprintf(w, "  %s\n", m)
	}
	if !check.OK() {
		return fmt.Errorf("silver's quarantine differs from the generator's ledger")
	}
	for _, q := range queries {
		fmt.Fprintf(w, "\n== %s\n", q.title)
		cat := &catalog.Catalog{Spec: env.Spec, Lake: env.Lake, Partition: gen.End, WorkDir: env.WorkDir}
		if err := cat.Query(ctx, env.Duck, q.sql, catalog.FormatTable, w); err != nil {
			return err
		}
	}
	wh, err := gold.Open(ctx, env)
	if err != nil {
		return err
	}
	defer wh.Close()
	for _, q := range marts {
		fmt.Fprintf(w, "\n== %s\n", q.title)
		rows, err := wh.Query(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("demo: query %s: %w", q.title, err)
		}
		printRows(w, rows)
	}
	fmt.Fprintf(w, "\nlake: %s (silver/, quarantine/, dims/, enriched/, _audit/, _reports/, warehouse.duckdb)\n", env.Lake.URI(""))
	fmt.Fprintf(w, "query it: %s sql \"SELECT * FROM enriched.customer_ltv LIMIT 5\"\n", o.QueryHint)
	return nil
}

// printRows writes warehouse rows as an aligned table.
func printRows(w io.Writer, r *warehouse.Rows) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, c := range r.Columns {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, c)
	}
	fmt.Fprintln(tw)
	for _, row := range r.Values {
		for i, v := range row {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			switch x := v.(type) {
			case nil:
				fmt.Fprint(tw, "NULL")
			case time.Time:
				if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
					fmt.Fprint(tw, x.Format(time.DateOnly))
				} else {
					fmt.Fprint(tw, x.Format("2006-01-02 15:04:05"))
				}
			case float64:
				fmt.Fprintf(tw, "%.4g", x)
			default:
				fmt.Fprint(tw, x)
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
