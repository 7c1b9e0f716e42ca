package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/sqltext"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/gold"
)

// warehouseConfig reads the global warehouse flags (DESIGN section 5).
func warehouseConfig(c *cli.Context) tasks.Warehouse {
	return tasks.Warehouse{Kind: c.String("warehouse"), Path: c.String("warehouse-path"),
		Project: c.String("bq-project"), Location: c.String("bq-location"), Endpoint: c.String("bq-endpoint")}
}

func goldCommand(g *globals) *cli.Command {
	partition := &cli.StringFlag{Name: "partition", Required: true, Usage: "partition date, YYYY-MM-DD"}
	return &cli.Command{
		Name:  "gold",
		Usage: "load published partitions into the warehouse and build the gold marts (--warehouse duckdb|bigquery)",
		Subcommands: []*cli.Command{
			{
				Name:  "load",
				Usage: "replace a warehouse partition with a published lake partition (silver.<t>, enriched.<t>, dims.<dim>)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "table", Required: true, Usage: "layer-qualified table: silver.orders, enriched.customer_ltv, dims.customers"},
					partition,
				},
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, err := gold.Load(c.Context, env, gold.LoadOptions{Table: c.String("table"), Partition: c.String("partition")})
					return g.done(env, rec, err)
				}),
			},
			{
				Name:  "build",
				Usage: "replace a mart partition with the rows of its spec SQL",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "mart", Required: true, Usage: "gold fact or dim, as the spec names it"},
					partition,
				},
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, err := gold.Build(c.Context, env, gold.BuildOptions{Mart: c.String("mart"), Partition: c.String("partition")})
					return g.done(env, rec, err)
				}),
			},
			{
				Name:  "render",
				Usage: "print the query gold build runs for a mart partition, rendered for a warehouse (touches no lake or warehouse)",
				Description: "Prints to stdout the SELECT that `worker gold build --mart M --partition D` runs on the\n" +
					"warehouse: the mart's spec SQL with its macros expanded ({{ partition }}, date_trunc, ...), its\n" +
					"layer-qualified names bound (\"silver\".\"orders\" on DuckDB, `project.silver.orders` on BigQuery)\n" +
					"and dims.<dim> replaced by the latest-snapshot-on-or-before-D subquery. gold build runs this\n" +
					"statement as is (DuckDB wraps it as SELECT * FROM (...) AS mart to replace partition D; BigQuery\n" +
					"sends it as a query job to mart$YYYYMMDD). Nothing is opened but the spec.\n\n" +
					"--dialect defaults to the global --warehouse. For bigquery the project is the global\n" +
					"--bq-project (WORKER_BQ_PROJECT), else the placeholder \"" + gold.DefaultRenderProject + "\". Examples:\n\n" +
					"   worker gold render --mart fct_orders --partition 2026-11-20\n" +
					"   worker --bq-project my-proj gold render --mart dim_customers --partition 2026-11-20 --dialect bigquery",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "mart", Required: true, Usage: "gold fact or dim, as the spec names it"},
					partition,
					&cli.StringFlag{Name: "dialect", Usage: "duckdb or bigquery (default: the global --warehouse)"},
				},
				Action: g.action(func(c *cli.Context) error {
					s, err := loadSpec(c)
					if err != nil {
						return err
					}
					kind := c.String("dialect")
					if kind == "" {
						kind = c.String("warehouse")
					}
					p := c.String("bq-project")
					if p == "" {
						p = gold.DefaultRenderProject
					}
					d, err := sqltext.ParseDialect(kind, p)
					if err != nil {
						return usageErr(fmt.Sprintf("--dialect %q: use duckdb or bigquery", kind))
					}
					q, err := gold.RenderSQL(s, gold.RenderOptions{Mart: c.String("mart"), Partition: c.String("partition"), Dialect: d})
					if err != nil {
						return err
					}
					q = strings.TrimRight(q, " \t\r\n")
					_, err = fmt.Fprintln(g.stdout, q)
					return err
				}),
			},
			{
				Name:  "audit",
				Usage: "load the partition's audits and validation reports into ops.ops_task_audit",
				Flags: []cli.Flag{partition},
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, err := gold.Audit(c.Context, env, gold.AuditOptions{Partition: c.String("partition")})
					return g.done(env, rec, err)
				}),
			},
		},
	}
}
