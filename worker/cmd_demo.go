package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/tasks/demo"
	"github.com/shoplake/lakehouse/tasks/generate"
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
			generate.PrintResult(g.stdout, res)
			return nil
		}),
	}
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
			do := demo.Options{Generate: o, Out: g.stdout, QueryHint: g.argv0 + " --lake " + c.String("lake")}
			if g.terminal {
				do.Progress = g.stderr
			}
			return demo.Run(c.Context, env, do)
		}),
	}
}
