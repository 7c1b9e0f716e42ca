package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/tasks/enriched"
)

func enrichedCommand(g *globals) *cli.Command {
	flags := func() []cli.Flag {
		return []cli.Flag{
			&cli.StringFlag{Name: "transform", Required: true, Usage: "enriched transform (as the spec names it)"},
			&cli.StringFlag{Name: "partition", Required: true, Usage: "partition date, YYYY-MM-DD"},
		}
	}
	opts := func(c *cli.Context) enriched.Options {
		return enriched.Options{Transform: c.String("transform"), Partition: c.String("partition")}
	}
	return &cli.Command{
		Name:  "enriched",
		Usage: "build and gate enriched transforms (SQL over silver, dims and enriched)",
		Subcommands: []*cli.Command{
			{
				Name:  "build",
				Usage: "run a transform's SQL for one partition over the committed data; stage the result",
				Flags: flags(),
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, err := enriched.Build(c.Context, env, opts(c))
					return g.done(env, rec, err)
				}),
			},
			{
				Name:  "validate",
				Usage: "the enriched gate: staged files, min rows, not-null columns, null analysis and business rules",
				Flags: flags(),
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, _, err := enriched.Validate(c.Context, env, opts(c))
					return g.done(env, rec, err)
				}),
			},
		},
	}
}
