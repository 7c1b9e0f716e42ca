package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/scaffold"
	"github.com/shoplake/lakehouse/internal/spec"
)

// scaffoldCommand is `worker specs scaffold`: the spec of a table from its files.
func scaffoldCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "scaffold",
		Usage:     "print a lintable pipeline.yaml for the tables of these files (CSV, Parquet, NDJSON), or add them to a spec with --into",
		ArgsUsage: "FILE...",
		Description: "Reads the files with DuckDB and writes what you would otherwise type: the bronze columns as\n" +
			"delivered, a base_silver entry with inferred types, a primary key unique and non-null in the\n" +
			"sample, null tokens (NA, N/A, ...), a csv: block for a non-default dialect, foreign keys between\n" +
			"tables scaffolded together, and comments where it had to guess.\n\n" +
			"One --table: every file is part of that table. Several: one per file, in order:\n" +
			"  worker specs scaffold --table customers raw_customers.csv > specs/mine/pipeline.yaml\n" +
			"  worker specs scaffold --table customers --table orders customers.csv orders.csv\n" +
			"  worker specs scaffold --into specs/mine --table refunds refunds.csv",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "table", Required: true, Usage: "table name: once for all files, or once per file in order"},
			&cli.StringFlag{Name: "into", Usage: "spec folder whose pipeline.yaml the tables are added to (in place; it must lint after)"},
			&cli.StringFlag{Name: "pipeline", Usage: "pipeline name of a new spec (default " + scaffold.DefaultPipeline + ")"},
		},
		Action: g.action(func(c *cli.Context) error {
			o := scaffold.Options{
				Tables:   c.StringSlice("table"),
				Files:    c.Args().Slice(),
				Pipeline: c.String("pipeline"),
				Into:     c.String("into"),
				Duck:     duck.Options{MemoryLimit: c.String("memory-limit"), Threads: c.Int("threads"), TempDir: c.String("work-dir")},
			}
			res, err := scaffold.Run(c.Context, o)
			if err != nil {
				var specErrs spec.Errors
				if o.Into != "" && errors.As(err, &specErrs) {
					g.log.Error("nothing was added to the spec", "into", o.Into, "error", oneLine(err.Error()))
				}
				return err
			}
			if o.Into == "" {
				_, err = g.stdout.Write(res.YAML)
				return err
			}
			fmt.Fprintf(g.stdout, "%s: added bronze and base_silver table(s) %s; it lints\n", res.File, strings.Join(res.Tables, ", "))
			return nil
		}),
	}
}
