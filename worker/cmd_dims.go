package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/tasks/dims"
)

func dimsCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "dims",
		Usage: "dimension snapshots of committed silver tables, behind a freshness gate",
		Subcommands: []*cli.Command{
			{
				Name: "snapshot",
				Usage: "stage a snapshot (one row per key, its latest version as of --partition) and write its report; " +
					"`worker publish --layer dims` commits it",
				Description: "Exit codes: 0 staged; 3 a check of the snapshot failed (nothing to publish);\n" +
					"4 with --if-stale: the latest published snapshot is younger than the dim's max_age (nothing to do).",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "dim", Required: true, Usage: "dim (as the spec names it)"},
					&cli.StringFlag{Name: "partition", Usage: "snapshot as of this date, YYYY-MM-DD (default: the source's latest committed partition)"},
					&cli.BoolFlag{Name: "if-stale", Usage: "do nothing (exit 4) when the latest published snapshot is younger than max_age"},
				},
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, _, err := dims.Snapshot(c.Context, env, dims.Options{Dim: c.String("dim"),
						Partition: c.String("partition"), IfStale: c.Bool("if-stale")})
					return g.done(env, rec, err)
				}),
			},
			{
				Name:  "check",
				Usage: "the freshness gate: print the latest snapshot's date, run, age and max_age",
				Description: "Prints one line: dim=... snapshot_dt=... run=... committed_at=... age=... max_age=... status=fresh|stale.\n" +
					"Exit codes: 0 fresh (younger than max_age); 3 stale or never published (the gate failed).",
				Flags: []cli.Flag{&cli.StringFlag{Name: "dim", Required: true, Usage: "dim (as the spec names it)"}},
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					fr, err := dims.Check(c.Context, env, dims.CheckOptions{Dim: c.String("dim")})
					if fr != nil {
						fmt.Fprintln(g.stdout, fr.String())
					}
					return err
				}),
			},
		},
	}
}
