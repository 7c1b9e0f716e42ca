// Package tests holds black-box tests of the built worker binary: CLI scripts
// (testscript, testdata/*.txtar) and end-to-end pipeline runs on generated data.
package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// workerBin is the binary under test, built once by TestMain.
var workerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "worker-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workerBin = filepath.Join(dir, "worker")
	build := exec.Command("go", "build", "-o", workerBin, "../worker")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build worker:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestScripts runs testdata/*.txtar against the real binary. Scripts get:
//
//	status N cmd args...   run cmd and require exit code N (stdout/stderr kept)
//	$DATASETS              the shared jaffle_shop CSVs
func TestScripts(t *testing.T) {
	datasets, _ := filepath.Abs("../../shared/datasets")
	if st, err := os.Stat(datasets); err != nil || !st.IsDir() {
		t.Fatalf("shared datasets not found at %s", datasets)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(e *testscript.Env) error {
			e.Setenv("PATH", filepath.Dir(workerBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			e.Setenv("DATASETS", datasets)
			e.Setenv("WORKER_LOG_FORMAT", "json")
			e.Setenv("WORKER_THREADS", "2")
			e.Setenv("WORKER_MEMORY_LIMIT", "1GB")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status": func(ts *testscript.TestScript, neg bool, args []string) {
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
			},
		},
	})
}

// runWorker runs the binary and returns stdout, stderr and the exit code.
func runWorker(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(workerBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "WORKER_LOG_FORMAT=json", "WORKER_THREADS=2", "WORKER_MEMORY_LIMIT=1GB")
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run worker %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}
