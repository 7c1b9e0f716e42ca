package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/tasks/pipeline"
)

func runCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run the whole task graph in-process for one partition or a date range",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "partition", Usage: "partition date, YYYY-MM-DD"},
			&cli.StringFlag{Name: "start", Usage: "first partition of a range (with --end)"},
			&cli.StringFlag{Name: "end", Usage: "last partition of a range, inclusive"},
			&cli.StringFlag{Name: "from", Usage: "first stage to run: bronze, silver, dims, enriched or gold"},
			&cli.StringFlag{Name: "to", Usage: "last stage to run: bronze, silver, dims, enriched or gold"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and exit"},
		},
		Action: g.action(func(c *cli.Context) error {
			parts, err := partitionsOf(c)
			if err != nil {
				return err
			}
			env, err := g.env(c)
			if err != nil {
				return err
			}
			o := pipeline.Options{Partitions: parts, From: c.String("from"), To: c.String("to")}
			if c.Bool("dry-run") {
				steps, err := pipeline.Plan(env, o)
				if err != nil {
					return err
				}
				pipeline.PrintPlan(g.stdout, steps)
				return nil
			}
			if g.terminal {
				o.Progress = g.stderr
			}
			env.Log.Info("run starting", "run_id", env.RunID, "partitions", len(parts), "lake", env.Lake.URI(""))
			res, err := pipeline.Run(c.Context, env, o)
			if err != nil {
				return err
			}
			pipeline.PrintSummary(g.stdout, res)
			return res.Err()
		}),
	}
}

// partitionsOf reads --partition or --start/--end.
func partitionsOf(c *cli.Context) ([]string, error) {
	p, s, e := c.String("partition"), c.String("start"), c.String("end")
	switch {
	case p != "" && (s != "" || e != ""):
		return nil, usageErr("give --partition or --start/--end, not both")
	case p != "":
		parts, err := pipeline.Dates(p, p)
		if err != nil {
			return nil, fail.Usage(fmt.Errorf("--partition: %w", err))
		}
		return parts, nil
	case s != "" && e != "":
		parts, err := pipeline.Dates(s, e)
		if err != nil {
			return nil, fail.Usage(err)
		}
		return parts, nil
	}
	return nil, usageErr("give --partition DATE or --start DATE --end DATE")
}
