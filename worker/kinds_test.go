package main

import (
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/spec"
)

// Every task kind names a worker command that exists, and every flag of a
// scheduled kind's DAG arguments is a flag of that command, so a generated DAG
// never runs a command line the worker rejects.
func TestKindsMatchCommands(t *testing.T) {
	app := newApp(&globals{stdout: io.Discard, stderr: io.Discard, argv0: "worker"})
	for _, k := range spec.Kinds() {
		cmd := findCommand(app.Commands, k.Command)
		if cmd == nil {
			t.Errorf("kind %s: no command %q", k.Name, strings.Join(k.Command, " "))
			continue
		}
		flags := map[string]bool{}
		for _, f := range cmd.Flags {
			for _, n := range f.Names() {
				flags["--"+n] = true
			}
		}
		if k.TableFlag != "" && !flags[k.TableFlag] {
			t.Errorf("kind %s: command %q has no flag %s", k.Name, cmd.FullName(), k.TableFlag)
		}
		layer := k.Layer
		if layer == "" {
			layer = spec.LayerSilver
		}
		for _, a := range k.Args(spec.Node{Task: k.Name, Layer: layer, Table: "t"}, spec.PodArgs{Partition: "2026-11-20", BronzeWait: "2h"}) {
			if strings.HasPrefix(a, "--") && !flags[a] {
				t.Errorf("kind %s: its DAG arguments use %s, which %q does not have", k.Name, a, strings.Join(k.Command, " "))
			}
		}
	}
}

func findCommand(cmds []*cli.Command, words []string) *cli.Command {
	var found *cli.Command
	for _, w := range words {
		found = nil
		for _, c := range cmds {
			if c.Name == w {
				found = c
				break
			}
		}
		if found == nil {
			return nil
		}
		cmds = found.Subcommands
	}
	return found
}
