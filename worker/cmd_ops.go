package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks/dims"
	"github.com/shoplake/lakehouse/tasks/gc"
	"github.com/shoplake/lakehouse/tasks/publish"
)

func rollbackCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "rollback",
		Usage: "point a committed partition back at an earlier committed run (silver also rolls back its quarantine)",
		Description: "The run's files are verified (exist, size, crc32c) before the commit point moves.\n" +
			"Exit codes: 0 done (or already current); 2 no such committed run; 3 the run's files are missing or changed.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "layer", Required: true, Usage: "layer: " + lake.Silver + ", " + lake.Enriched + " or " + lake.Dims},
			&cli.StringFlag{Name: "to", Required: true, Usage: "run id to make current again"},
		}, tablePartitionFlags("table, transform or dim")...),
		Action: g.action(func(c *cli.Context) error {
			env, err := g.env(c)
			if err != nil {
				return err
			}
			rec, err := publish.Rollback(c.Context, env, publish.RollbackOptions{Layer: c.String("layer"), Table: c.String("table"),
				Partition: c.String("partition"), To: c.String("to"),
				Step: publish.PauseHook(os.Getenv(publish.PauseEnv), os.Stdin, g.stderr)})
			return g.done(env, rec, err)
		}),
	}
}

func gcCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "gc",
		Usage: "remove run folders no commit point references and _staging leftovers older than --grace",
		Description: "Never removes anything a commit point names. Older unreferenced runs can no longer be\n" +
			"rolled back to, so keep --grace longer than the rollback window and than any build-to-publish delay\n" +
			"(at least 1h: a run folder's files are placed before its commit point names them).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "grace", Value: "72h", Usage: "keep folders whose newest object is younger than this (e.g. 72h, 3d)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be removed; remove nothing"},
		},
		Action: g.action(func(c *cli.Context) error {
			grace, err := spec.ParseAge(c.String("grace"))
			if err != nil {
				return usageErr(fmt.Sprintf("--grace: %v", err))
			}
			env, err := g.env(c)
			if err != nil {
				return err
			}
			res, _, err := gc.Run(c.Context, env, gc.Options{Grace: grace, DryRun: c.Bool("dry-run")})
			verb := "removed"
			if c.Bool("dry-run") {
				verb = "would remove"
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			var objects int
			var bytes int64
			for _, f := range res.Removed {
				fmt.Fprintf(tw, "%s\t%s\t%s/\t%d objects\t%d bytes\tage %s\n", verb, f.Kind, f.Dir, f.Objects, f.Bytes,
					dims.Human(env.Clock().Sub(f.Newest)))
				objects += f.Objects
				bytes += f.Bytes
			}
			tw.Flush()
			fmt.Fprintf(g.stdout, "gc: %s %d folders (%d objects, %d bytes); kept %d referenced run folders, %d younger than %s and %d a publish may be placing\n",
				verb, len(res.Removed), objects, bytes, res.Referenced, res.Young, dims.Human(grace), res.InFlight)
			return err
		}),
	}
}
