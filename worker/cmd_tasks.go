package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks/bronze"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

func bronzeCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "bronze",
		Usage: "bring files into bronze and gate bronze partitions",
		Subcommands: []*cli.Command{
			{
				Name:      "import",
				Usage:     "turn CSV, Parquet or NDJSON files into a bronze partition with its manifest",
				ArgsUsage: "FILE...",
				Flags: append(tablePartitionFlags("bronze table (as the spec names it)"),
					&cli.StringFlag{Name: "source", Value: bronze.DefaultSource, Usage: "source system recorded in the manifest"}),
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					if c.NArg() == 0 {
						return usageErr("bronze import: give at least one FILE")
					}
					rec, err := bronze.Import(c.Context, env, bronze.ImportOptions{Table: c.String("table"),
						Partition: c.String("partition"), Files: c.Args().Slice(), Source: c.String("source")})
					return g.done(env, rec, err)
				}),
			},
			{
				Name:  "validate",
				Usage: "the bronze gate: manifest, files, checksums, row counts, schema and coverage",
				Flags: append(tablePartitionFlags("bronze table"),
					&cli.StringFlag{Name: "since", Usage: "also require a partition for every date from this one (coverage)"},
					&cli.DurationFlag{Name: "wait", Usage: "poll this long for a late manifest (a sensor); exit 4 on timeout"},
					&cli.DurationFlag{Name: "poll-interval", Value: bronze.DefaultPollInterval, Usage: "how often --wait looks"}),
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, _, err := bronze.Validate(c.Context, env, bronze.ValidateOptions{Table: c.String("table"),
						Partition: c.String("partition"), Since: c.String("since"), Wait: c.Duration("wait"),
						PollInterval: c.Duration("poll-interval")})
					return g.done(env, rec, err)
				}),
			},
		},
	}
}

func silverCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "silver",
		Usage: "build and gate base-silver tables",
		Subcommands: []*cli.Command{
			{
				Name:  "build",
				Usage: "cast, clean, deduplicate and check one partition; stage silver and its quarantine",
				Flags: tablePartitionFlags("base-silver table"),
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, err := silver.Build(c.Context, env, silver.Options{Table: c.String("table"), Partition: c.String("partition")})
					return g.done(env, rec, err)
				}),
			},
			{
				Name:  "validate",
				Usage: "the silver gate: conservation, PK/FK integrity, quarantine rate and row loss of what the run staged",
				Flags: tablePartitionFlags("base-silver table"),
				Action: g.action(func(c *cli.Context) error {
					env, err := g.env(c)
					if err != nil {
						return err
					}
					rec, _, err := silver.Validate(c.Context, env, silver.Options{Table: c.String("table"), Partition: c.String("partition")})
					return g.done(env, rec, err)
				}),
			},
		},
	}
}

func publishCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "publish",
		Usage: "commit what a run staged once its gate passed (silver also commits its quarantine)",
		Description: "Requires this run's gate report with a status other than fail: " + spec.TaskSilverValidate + " (silver),\n" +
			spec.TaskEnrichedValidate + " (enriched), " + spec.TaskDimsSnapshot + " (dims; --partition is the " + lake.DimsKey + ").\n" +
			"Publishing a run that is already committed is a no-op.",
		Flags: append([]cli.Flag{&cli.StringFlag{Name: "layer", Required: true,
			Usage: "layer to publish: " + lake.Silver + ", " + lake.Enriched + " or " + lake.Dims}},
			tablePartitionFlags("table, transform or dim")...),
		Action: g.action(func(c *cli.Context) error {
			env, err := g.env(c)
			if err != nil {
				return err
			}
			rec, err := publish.Run(c.Context, env, publish.Options{Layer: c.String("layer"), Table: c.String("table"), Partition: c.String("partition"),
				// Test only: nil unless WORKER_TEST_PAUSE_AT is set (see publish.PauseEnv).
				Step: publish.PauseHook(os.Getenv(publish.PauseEnv), os.Stdin, g.stderr)})
			return g.done(env, rec, err)
		}),
	}
}
