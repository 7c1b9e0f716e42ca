package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/dagsgen"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/spec"
)

func specsCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "specs",
		Usage: "check and explain the pipeline spec",
		Subcommands: []*cli.Command{
			scaffoldCommand(g),
			{
				Name:  "lint",
				Usage: "report every problem of the spec at once, with file:line:col (exit 2 on errors; warnings, e.g. unbounded inputs, exit 0)",
				Action: g.action(func(c *cli.Context) error {
					s, err := loadSpec(c)
					if err != nil {
						return err
					}
					// The deploy section only shapes the DAGs: generating them checks it.
					// The local flavour needs no image, so a spec without a deploy
					// section (not yet scheduled anywhere) still lints clean.
					if _, err := dagsgen.Generate(s, dagsgen.Options{Flavor: dagsgen.FlavorLocal}); err != nil {
						return fail.Usage(err)
					}
					fmt.Fprintf(g.stdout, "%s: ok (pipeline %s: %d bronze, %d silver, %d dims, %d transforms, %d marts; sha256 %s)\n",
						s.File, s.Pipeline, len(s.Bronze.Tables), len(s.BaseSilver.Tables), len(s.Dims),
						len(s.Enriched.Transforms), len(s.Gold.Facts)+len(s.Gold.Dims), s.SHA256[:12])
					// Warnings do not fail the lint: an unbounded input is correct, only costly.
					if ws := s.Warnings(); len(ws) > 0 {
						for _, w := range ws {
							fmt.Fprintf(g.stdout, "warning: %s\n", w)
						}
						fmt.Fprintf(g.stdout, "%d warning(s): unbounded inputs make a day's cost grow with history (DESIGN section 4, lookback)\n", len(ws))
					}
					return nil
				}),
			},
			{
				Name:  "graph",
				Usage: "print the task graph the spec implies",
				Flags: []cli.Flag{&cli.StringFlag{Name: "format", Value: "text", Usage: "text, mermaid or json"}},
				Action: g.action(func(c *cli.Context) error {
					s, err := loadSpec(c)
					if err != nil {
						return err
					}
					gr := s.Graph()
					switch c.String("format") {
					case "text":
						fmt.Fprint(g.stdout, gr.Text())
					case "mermaid":
						fmt.Fprint(g.stdout, gr.Mermaid())
					case "json":
						b, err := json.MarshalIndent(gr, "", "  ")
						if err != nil {
							return err
						}
						fmt.Fprintln(g.stdout, string(b))
					default:
						return usageErr(fmt.Sprintf("--format %q: want text, mermaid or json", c.String("format")))
					}
					return nil
				}),
			},
			{
				Name:  "schema",
				Usage: "print the JSON Schema of the spec format (for editors)",
				Action: g.action(func(c *cli.Context) error {
					_, err := g.stdout.Write(spec.JSONSchema())
					return err
				}),
			},
			{
				Name:  "reference",
				Usage: "print a Markdown reference of every spec key (docs/SPEC.md), from the same source as the schema",
				Action: g.action(func(c *cli.Context) error {
					_, err := g.stdout.Write(spec.Reference())
					return err
				}),
			},
		},
	}
}
