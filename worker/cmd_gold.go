package main

import (
	"github.com/urfave/cli/v2"

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
