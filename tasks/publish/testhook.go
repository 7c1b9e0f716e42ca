package publish

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PauseEnv names the TEST-ONLY environment variable of the crash-safety hook. The
// worker's publish and rollback commands read it; tasks never do. Unset (the only
// setting outside tests) it does nothing at all.
//
//	WORKER_TEST_PAUSE_AT=<step>[#n]
//
// With it set, the command prints "step <layer>:<step>" to stderr before every step
// of the commit protocol, and at the n-th step (default 1st) matching <step> it
// prints "paused at <layer>:<step>" and waits for one line on stdin before going
// on; if stdin is closed or empty it sleeps until killed. <step> matches a
// qualified name ("silver:swap-commit-point") or a bare one ("swap-commit-point",
// "copy part-00001.parquet"). tests/crash kills the process while it is paused.
const PauseEnv = "WORKER_TEST_PAUSE_AT"

// PauseHook returns the Step function for PauseEnv's value, or nil when it is
// empty. TEST ONLY: see PauseEnv.
func PauseHook(at string, stdin io.Reader, stderr io.Writer) func(string) {
	if at == "" {
		return nil
	}
	pattern, nth := at, 1
	if i := strings.LastIndex(at, "#"); i >= 0 {
		if n, err := strconv.Atoi(at[i+1:]); err == nil && n > 0 {
			pattern, nth = at[:i], n
		}
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var mu sync.Mutex
	seen := 0
	in := bufio.NewReader(stdin)
	return func(name string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "step %s\n", name)
		_, bare, _ := strings.Cut(name, ":")
		if name != pattern && bare != pattern {
			return
		}
		if seen++; seen != nth {
			return
		}
		fmt.Fprintf(stderr, "paused at %s\n", name)
		if _, err := in.ReadString('\n'); err == nil {
			return
		}
		for {
			time.Sleep(time.Hour) // killed here by the test
		}
	}
}
