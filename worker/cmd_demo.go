package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/tasks/generate"
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
			fmt.Fprintf(g.stdout, "\n== run %s: bronze gate -> silver build -> silver gate -> publish, per table and day\n", env.RunID)
			po := pipeline.Options{Partitions: parts, To: "enriched"}
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
			fmt.Fprintf(g.stdout, "\nlake: %s (silver/, quarantine/, dims/, enriched/, _audit/, _reports/)\n", env.Lake.URI(""))
			fmt.Fprintf(g.stdout, "query it: worker --lake %s sql \"SELECT * FROM enriched.customer_ltv LIMIT 5\"\n", c.String("lake"))
			return nil
		}),
	}
}
