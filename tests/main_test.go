// Package tests holds black-box tests of the built worker binary: end-to-end
// pipeline runs on generated data, the GCS emulator, determinism, real data sets.
// The CLI scripts in testdata/*.txtar run from ../worker (TestScripts there), whose
// test binary is the worker itself.
package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
