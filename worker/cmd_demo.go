package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks/generate"
	"github.com/shoplake/lakehouse/tasks/gold"
	"github.com/shoplake/lakehouse/tasks/pipeline"
)

func generateFlags(days int, scale, faultRate float64, start string) []cli.Flag {
	startFlag := &cli.StringFlag{Name: "start", Value: start, Usage: "first day, YYYY-MM-DD"}
	daysFlag := &cli.IntFlag{Name: "days", Value: days, Usage: "number of daily partitions"}
	if start == "" {
		startFlag.Required = true
		daysFlag.Required = true
	}
	return []cli.Flag{
		daysFlag, startFlag,
		&cli.Float64Flag{Name: "scale", Value: scale, Usage: "volume relative to the reference (1.0: ~1M orders a day)"},
		&cli.Int64Flag{Name: "seed", Value: 42, Usage: "random seed: the same seed gives byte-identical files"},
		&cli.Float64Flag{Name: "fault-rate", Value: faultRate, Usage: "fraction of rows per table and day that get one injected fault (0 to 0.5)"},
	}
}

func generateOptions(c *cli.Context) (generate.Options, error) {
	start, err := time.Parse(time.DateOnly, c.String("start"))
	if err != nil {
		return generate.Options{}, usageErr(fmt.Sprintf("--start %q: want a date, YYYY-MM-DD", c.String("start")))
	}
	o := generate.Options{Days: c.Int("days"), Start: start, Scale: c.Float64("scale"), Seed: c.Int64("seed"), FaultRate: c.Float64("fault-rate")}
	if err := o.Validate(); err != nil {
		return o, fail.Usage(err)
	}
	return o, nil
}

func generateCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "generate",
		Usage: "write deterministic shop bronze data (with injected bad rows and their ledger) into the lake",
		Flags: generateFlags(0, 0.01, 0, ""),
		Action: g.action(func(c *cli.Context) error {
			o, err := generateOptions(c)
			if err != nil {
				return err
			}
			env, err := g.env(c)
			if err != nil {
				return err
			}
			res, err := generate.Run(c.Context, env, o)
			if err != nil {
				return err
			}
			printGenerated(g.stdout, res)
			return nil
		}),
	}
}

func printGenerated(w io.Writer, res *generate.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tpartitions\trows\tfiles\tbytes\texpected_rejects\t")
	for _, t := range res.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", t.Table, t.Partitions, t.Rows, t.Files, t.Bytes, t.Expected)
	}
	tw.Flush()
	fmt.Fprintf(w, "bronze %s..%s written; ledger of %d expected outcomes at %s\n", res.Start, res.End, res.LedgerEntries, res.LedgerPath)
}

// demoQueries are what the demo shows of the layers it built.
var demoQueries = []struct{ title, sql string }{
	{"quarantine reasons (all days)", `SELECT _reject_reason AS reason, count(*) AS rows FROM (
  SELECT _reject_reason FROM quarantine.orders UNION ALL SELECT _reject_reason FROM quarantine.order_items
  UNION ALL SELECT _reject_reason FROM quarantine.payments UNION ALL SELECT _reject_reason FROM quarantine.cart_events)
GROUP BY 1 ORDER BY 2 DESC LIMIT 8`},
	{"enriched.daily_metrics", `SELECT * FROM enriched.daily_metrics ORDER BY ingestion_dt`},
}

// demoMarts are the gold marts the demo shows, straight from the warehouse.
var demoMarts = []struct{ title, sql string }{
	{"gold.fct_daily_sales", `SELECT * FROM gold.fct_daily_sales ORDER BY 1 LIMIT 5`},
	{"gold.fct_customers (top 5 by lifetime revenue)", `SELECT * FROM gold.fct_customers WHERE as_of_date = (SELECT max(as_of_date) FROM gold.fct_customers) ORDER BY lifetime_revenue DESC LIMIT 5`},
}

func demoCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "generate a small shop data set with bad rows and run the pipeline on it",
		Flags: generateFlags(3, 0.002, 0.01, "2026-11-20"),
		Action: g.action(func(c *cli.Context) error {
			o, err := generateOptions(c)
			if err != nil {
				return err
			}
			env, err := g.env(c)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "== generate: %d days from %s, scale %g, fault rate %g, into %s\n",
				o.Days, o.Start.Format(time.DateOnly), o.Scale, o.FaultRate, env.Lake.URI(""))
			gen, err := generate.Run(c.Context, env, o)
			if err != nil {
				return err
			}
			printGenerated(g.stdout, gen)
			parts, err := pipeline.Dates(gen.Start, gen.End)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "\n== run %s: bronze gates, silver, dims, enriched and gold, per table and day (FK parents first)\n", env.RunID)
			po := pipeline.Options{Partitions: parts}
			if g.terminal {
				po.Progress = g.stderr
			}
			res, err := pipeline.Run(c.Context, env, po)
			if err != nil {
				return err
			}
			pipeline.PrintSummary(g.stdout, res)
			if res.Code != fail.OK {
				return runError(res)
			}
			check, err := generate.CheckLedger(c.Context, env, parts)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "\n%s\n", check)
			for i, m := range append(check.Missing, check.Unexpected...) {
				if i == 10 {
					fmt.Fprintln(g.stdout, "  ...")
					break
				}
				fmt.Fprintf(g.stdout, "  %s\n", m)
			}
			if !check.OK() {
				return fmt.Errorf("silver's quarantine differs from the generator's ledger")
			}
			for _, q := range demoQueries {
				fmt.Fprintf(g.stdout, "\n== %s\n", q.title)
				cat := &catalog.Catalog{Spec: env.Spec, Lake: env.Lake, Partition: gen.End, WorkDir: env.WorkDir}
				if err := cat.Query(c.Context, env.Duck, q.sql, catalog.FormatTable, g.stdout); err != nil {
					return err
				}
			}
			wh, err := gold.Open(c.Context, env)
			if err != nil {
				return err
			}
			defer wh.Close()
			for _, q := range demoMarts {
				fmt.Fprintf(g.stdout, "\n== %s\n", q.title)
				rows, err := wh.Query(c.Context, q.sql)
				if err != nil {
					return fmt.Errorf("demo: query %s: %w", q.title, err)
				}
				printRows(g.stdout, rows)
			}
			fmt.Fprintf(g.stdout, "\nlake: %s (silver/, quarantine/, dims/, enriched/, _audit/, _reports/, warehouse.duckdb)\n", env.Lake.URI(""))
			fmt.Fprintf(g.stdout, "query it: %s --lake %s sql \"SELECT * FROM enriched.customer_ltv LIMIT 5\"\n", g.argv0, c.String("lake"))
			return nil
		}),
	}
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
