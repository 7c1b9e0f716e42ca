package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/gold"
)

func sqlCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "sql",
		Usage:     "run a read-only query over committed data by layer-qualified names (silver.orders, dims.customers, gold.fct_orders, ...)",
		ArgsUsage: `"SELECT ..."`,
		Description: "Every name is bound: bronze.<table>, silver.<table>, quarantine.<table>, dims.<dim> (the latest\n" +
			"snapshot on or before --partition), dims.<dim>_history, enriched.<transform>, and from the embedded\n" +
			"DuckDB warehouse (read-only) gold.<mart> and ops.ops_task_audit. With --run, the partitions that run\n" +
			"staged (a failed gate's silver and quarantine, say) stand in for the committed ones. The query may use\n" +
			"{{ partition }} and the spec SQL macros. Results go to stdout; a note on stderr says when a table the\n" +
			"query reads has no committed partition.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "partition", Usage: "partition date D for dims binding and {{ partition }} (default: today, UTC); with --run, only the run's partition D is overlaid"},
			&cli.StringFlag{Name: "run", Usage: "also read what run RUN_ID staged under _staging/RUN_ID/, in place of the committed partitions of the same dates"},
			&cli.StringFlag{Name: "format", Value: string(catalog.FormatTable), Usage: "table, csv or json"},
		},
		Action: g.action(func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr(`sql: give the query as one argument, e.g. worker sql "SELECT count(*) FROM silver.orders"`)
			}
			f, err := catalog.ParseFormat(c.String("format"))
			if err != nil {
				return usageErr(err.Error())
			}
			run := c.String("run")
			if run != "" {
				if err := lake.CheckRunID(run); err != nil {
					return usageErr(fmt.Sprintf("sql --run: %v", err))
				}
			}
			env, err := g.env(c)
			if err != nil {
				return err
			}
			d := c.String("partition")
			if d == "" {
				d = env.Clock().Format(time.DateOnly)
			} else if _, err := lake.ParseDate(d); err != nil {
				return usageErr(fmt.Sprintf("sql: %v", err))
			}
			cat := &catalog.Catalog{Spec: env.Spec, Lake: env.Lake, Partition: d, WorkDir: env.WorkDir,
				Run: run, RunOnlyPartition: c.IsSet("partition"), PartitionGiven: c.IsSet("partition")}
			opt := catalog.QueryOptions{Format: f, Notes: g.stderr, Log: env.Log}
			opt.Warehouse, opt.NoWarehouse = sqlWarehouse(env)
			return cat.QueryWith(c.Context, env.Duck, c.Args().First(), g.stdout, opt)
		}),
	}
}

// sqlWarehouse is the DuckDB warehouse file `worker sql` reads gold from, or why
// there is none: gold in BigQuery is read with BigQuery's own tools, and a gs://
// lake's DuckDB warehouse lives wherever --warehouse-path says.
func sqlWarehouse(env *tasks.Env) (path, why string) {
	b, err := warehouse.Lookup(env.Warehouse.Kind)
	if err != nil {
		return "", fmt.Sprintf("--warehouse %q: use %s", env.Warehouse.Kind, warehouse.KindList())
	}
	if !b.Features.LocalFile {
		return "", fmt.Sprintf("worker sql reads gold only from the embedded DuckDB warehouse, and --warehouse is %s: %s", b.Kind, b.QueryHint(env.Warehouse.Project))
	}
	p, err := gold.DuckDBPath(env)
	if err != nil {
		return "", "worker sql reads gold from the DuckDB warehouse file, and a lake that is not a local directory has none by default: give --warehouse-path (WORKER_WAREHOUSE_PATH)"
	}
	return p, ""
}
