package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes this test binary act as the worker when it runs under that name:
// the scripts' `exec worker` runs main's run() from this very build, no `go build`.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"worker": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := run(ctx, os.Args, os.Stdout, os.Stderr)
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs the CLI scripts, ../tests/testdata/*.txtar (black-box: they only
// see the command line, streams, exit codes and files). Scripts get:
//
//	status N cmd args...   run cmd and require exit code N (stdout/stderr kept)
//	$DATASETS              the vendored data sets (specs/jaffle_shop/seeds as jaffle_shop)
//	                       and bronze import's fixtures (tasks/bronze/testdata as bronze)
//	jsonlog stdout|stderr [-when KEY] FIELD...
//	                       every non-empty line of the last command's stream is a
//	                       JSON object; those holding KEY (all, without -when) have
//	                       every FIELD; a severity is a Cloud Logging one
//	$SPECS                 the repository's specs/ folder (shop, jaffle_shop)
func TestScripts(t *testing.T) {
	datasets := t.TempDir()
	seeds, _ := filepath.Abs("../specs/jaffle_shop/seeds")
	if st, err := os.Stat(seeds); err != nil || !st.IsDir() {
		t.Fatalf("jaffle_shop seeds not found at %s", seeds)
	}
	if err := os.Symlink(seeds, filepath.Join(datasets, "jaffle_shop")); err != nil {
		t.Fatal(err)
	}
	// Bronze import's fixtures: nycflights13- and Northwind-shaped CSVs (their README).
	fixtures, _ := filepath.Abs("../tasks/bronze/testdata")
	if err := os.Symlink(fixtures, filepath.Join(datasets, "bronze")); err != nil {
		t.Fatal(err)
	}
	specsDir, _ := filepath.Abs("../specs")
	if st, err := os.Stat(specsDir); err != nil || !st.IsDir() {
		t.Fatalf("specs not found at %s", specsDir)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "../tests/testdata",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("DATASETS", datasets)
			e.Setenv("SPECS", specsDir)
			e.Setenv("WORKER_LOG_FORMAT", "json")
			e.Setenv("WORKER_THREADS", "2")
			e.Setenv("WORKER_MEMORY_LIMIT", "1GB")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonlog": jsonlogCmd,
			"status":  statusCmd,
		},
	})
}

// statusCmd runs a command and requires its exit code.
func statusCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: status CODE command args...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("status: %v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// jsonlogCmd checks that a stream holds only structured JSON log lines.
func jsonlogCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! jsonlog")
	}
	if len(args) < 1 || (args[0] != "stdout" && args[0] != "stderr") {
		ts.Fatalf("usage: jsonlog stdout|stderr [-when KEY] FIELD...")
	}
	stream, fields := args[0], args[1:]
	when := ""
	if len(fields) >= 2 && fields[0] == "-when" {
		when, fields = fields[1], fields[2:]
	}
	text := ts.ReadFile(stream)
	severities := map[string]bool{"DEBUG": true, "INFO": true, "WARNING": true, "ERROR": true}
	checked := 0
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			ts.Fatalf("%s line %d is not a JSON object: %q", stream, i+1, line)
		}
		if sev, ok := rec["severity"]; ok && !severities[fmt.Sprint(sev)] {
			ts.Fatalf("%s line %d: severity %v is not a Cloud Logging severity", stream, i+1, sev)
		}
		if _, ok := rec[when]; when != "" && !ok {
			continue
		}
		checked++
		for _, f := range fields {
			v, ok := rec[f]
			if !ok || v == nil || v == "" {
				ts.Fatalf("%s line %d lacks field %q: %s", stream, i+1, f, line)
			}
		}
	}
	if checked == 0 {
		ts.Fatalf("no %s line to check (when %q)", stream, when)
	}
}
