package tests

import (
	"regexp"
	"strings"
	"testing"
)

// subcommands parses the COMMANDS section of urfave/cli's help: the first name of
// every command but help.
func subcommands(help string) []string {
	_, rest, ok := strings.Cut(help, "\nCOMMANDS:\n")
	if !ok {
		return nil
	}
	var out []string
	for _, line := range strings.Split(rest, "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasSuffix(trimmed, ":") && !strings.Contains(trimmed, " ") {
			continue // a category heading
		}
		name := strings.TrimSuffix(strings.Fields(trimmed)[0], ",")
		if name != "help" && name != "h" {
			out = append(out, name)
		}
	}
	return out
}

// TestEveryCommandHasHelp walks the whole command tree from `worker --help`, so a
// command added later is covered without editing the test: every command and
// subcommand explains itself with --help on stdout, exits 0 and writes nothing
// to stderr. testdata/help.txtar checks what the main ones say.
func TestEveryCommandHasHelp(t *testing.T) {
	usage := regexp.MustCompile(`(?m)^USAGE:\n\s+worker `)
	seen := 0
	var walk func(path []string)
	walk = func(path []string) {
		args := append(append([]string(nil), path...), "--help")
		stdout, stderr, code := runWorker(t, args...)
		name := strings.Join(append([]string{"worker"}, path...), " ")
		seen++
		if code != 0 {
			t.Errorf("%s --help: exit %d\n%s", name, code, stderr)
			return
		}
		if strings.TrimSpace(stderr) != "" {
			t.Errorf("%s --help wrote to stderr: %s", name, stderr)
		}
		if !usage.MatchString(stdout) {
			t.Errorf("%s --help has no USAGE section:\n%s", name, stdout)
		}
		if len(path) > 0 && !strings.Contains(stdout, path[len(path)-1]) {
			t.Errorf("%s --help does not name the command:\n%s", name, stdout)
		}
		for _, sub := range subcommands(stdout) {
			walk(append(append([]string(nil), path...), sub))
		}
	}
	walk(nil)
	top, _, _ := runWorker(t, "--help")
	for _, want := range []string{"run", "generate", "bronze", "silver", "publish", "specs"} {
		found := false
		for _, c := range subcommands(top) {
			found = found || c == want
		}
		if !found {
			t.Errorf("worker --help does not list %q (parsed %v)", want, subcommands(top))
		}
	}
	if seen < 15 {
		t.Errorf("walked only %d commands", seen)
	}
	t.Logf("%d commands explain themselves", seen)
}
