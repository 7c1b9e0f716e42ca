package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/lake"
)

func sqlCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "sql",
		Usage:     "run a read-only query over committed data by layer-qualified names (silver.orders, dims.customers, ...)",
		ArgsUsage: `"SELECT ..."`,
		Description: "Every name is bound: bronze.<table>, silver.<table>, quarantine.<table>, dims.<dim> (the latest\n" +
			"snapshot on or before --partition), dims.<dim>_history, enriched.<transform>. The query may use\n" +
			"{{ partition }} and the spec SQL macros. Results go to stdout.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "partition", Usage: "partition date D for dims binding and {{ partition }} (default: today, UTC)"},
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
			cat := &catalog.Catalog{Spec: env.Spec, Lake: env.Lake, Partition: d, WorkDir: env.WorkDir}
			return cat.Query(c.Context, env.Duck, c.Args().First(), f, g.stdout)
		}),
	}
}
