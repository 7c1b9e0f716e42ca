package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/dagsgen"
	"github.com/shoplake/lakehouse/internal/fail"
)

func dagsCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "dags",
		Usage: "generate the Airflow DAG files from the spec",
		Subcommands: []*cli.Command{
			{
				Name: "generate",
				Usage: "write one Python file per DAG into --out and remove this pipeline's stale ones; " +
					"--check only compares, prints a diff and exits 1 when the folder is stale",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "out", Required: true, Usage: "folder of the DAG files (Airflow's dags folder)"},
					&cli.BoolFlag{Name: "check", Usage: "compare with --out instead of writing; exit 1 when a file differs, is missing or is stale"},
					&cli.StringFlag{Name: "flavor", Value: dagsgen.FlavorK8s, Usage: "k8s (a pod of the worker image per task) or local (the worker binary on the Airflow machine)"},
					&cli.StringFlag{Name: "worker", Usage: "local flavor: the worker binary the tasks run (default: this binary)"},
				},
				Action: g.action(func(c *cli.Context) error {
					s, err := loadSpec(c)
					if err != nil {
						return err
					}
					o, err := dagsOptions(c)
					if err != nil {
						return err
					}
					files, err := dagsgen.Generate(s, o)
					if err != nil {
						return fail.Usage(err)
					}
					out := c.String("out")
					changes, err := dagsgen.Compare(out, files, dagsgen.Marker(s.Pipeline, o.Flavor))
					if err != nil {
						return err
					}
					if c.Bool("check") {
						return dagsCheck(g, out, files, changes)
					}
					if err := dagsgen.Apply(out, files, changes); err != nil {
						return err
					}
					for _, ch := range changes {
						verb := "wrote"
						if ch.Kind == dagsgen.Stale {
							verb = "removed stale"
						}
						fmt.Fprintf(g.stdout, "%s %s\n", verb, filepath.Join(out, ch.Name))
					}
					fmt.Fprintf(g.stdout, "dags: %d file(s) in %s for pipeline %s (%s), %d changed\n",
						len(files), out, s.Pipeline, o.Flavor, len(changes))
					return nil
				}),
			},
		},
	}
}

// dagsOptions reads the flavor and, for the local flavor, the paths the tasks use:
// absolute, since Airflow runs each task in a temporary folder.
func dagsOptions(c *cli.Context) (dagsgen.Options, error) {
	o := dagsgen.Options{Flavor: c.String("flavor")}
	switch o.Flavor {
	case dagsgen.FlavorK8s:
		return o, nil
	case dagsgen.FlavorLocal:
	default:
		return o, usageErr(fmt.Sprintf("--flavor %q: want %s or %s", o.Flavor, dagsgen.FlavorK8s, dagsgen.FlavorLocal))
	}
	abs := func(flag, p string) (string, error) {
		if strings.Contains(p, "://") {
			return p, nil // gs://bucket/prefix
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return "", fail.Usage(fmt.Errorf("--%s %s: %w", flag, p, err))
		}
		return a, nil
	}
	var err error
	if o.Lake, err = abs("lake", c.String("lake")); err != nil {
		return o, err
	}
	if p := c.String("specs"); p != "" {
		if o.Specs, err = abs("specs", p); err != nil {
			return o, err
		}
	}
	o.Worker = c.String("worker")
	if o.Worker == "" {
		if o.Worker, err = os.Executable(); err != nil {
			return o, fmt.Errorf("find the worker binary (give --worker): %w", err)
		}
	}
	if o.Worker, err = abs("worker", o.Worker); err != nil {
		return o, err
	}
	return o, nil
}

// dagsCheck prints how the folder differs and fails (exit 1) when it does.
func dagsCheck(g *globals, out string, files map[string][]byte, changes []dagsgen.Change) error {
	if len(changes) == 0 {
		fmt.Fprintf(g.stdout, "dags: %d file(s) in %s are up to date\n", len(files), out)
		return nil
	}
	names := make([]string, len(changes))
	for i, ch := range changes {
		names[i] = fmt.Sprintf("%s (%s)", ch.Name, ch.Kind)
		g.stdout.Write(ch.Diff)
	}
	for _, n := range names {
		fmt.Fprintf(g.stdout, "stale: %s\n", filepath.Join(out, n))
	}
	return fmt.Errorf("dags: %d file(s) in %s are stale: %s; run worker dags generate --out %s",
		len(changes), out, strings.Join(names, ", "), out)
}
