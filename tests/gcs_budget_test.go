package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGCSWorkDirLimit: on a GCS lake a task stages its inputs into --work-dir;
// --work-dir-limit refuses to stage more, with a clear error (exit 1), and the
// work dir is cleaned up either way.
func TestGCSWorkDirLimit(t *testing.T) {
	emu := startGCS(t)
	work := t.TempDir()
	lakeURL := emu.lakeURL("budget")
	args := func(extra ...string) []string {
		return append([]string{"--lake", lakeURL, "--work-dir", work, "--log-format", "json", "--run-id", "r1"}, extra...)
	}
	gcsMustRunEnv(t, emu.env(), 0, args("generate", "--days", "1", "--start", "2026-11-20", "--scale", "0.0005", "--seed", "9")...)

	_, stderr := gcsMustRunEnv(t, emu.env(), 1, args("--work-dir-limit", "2KB", "silver", "build", "--table", "orders", "--partition", "2026-11-20")...)
	last := lastLine(stderr)
	for _, want := range []string{"work directory limit exceeded", "limit 2.0KB", "gs://"} {
		if !strings.Contains(last, want) {
			t.Errorf("stderr's last line lacks %q:\n%s", want, last)
		}
	}
	gcsMustRunEnv(t, emu.env(), 0, args("--work-dir-limit", "50MB", "silver", "build", "--table", "orders", "--partition", "2026-11-20")...)
	left, _ := filepath.Glob(filepath.Join(work, "*"))
	for _, f := range left {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			t.Errorf("work dir not cleaned up: %s", f)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
