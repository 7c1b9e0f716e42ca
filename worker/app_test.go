package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/fail"
)

// runCLI runs the worker in-process, as main does, and returns its streams and exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	argv := append([]string{"worker", "--log-format", "json", "--threads", "2", "--memory-limit", "1GB"}, args...)
	code = run(context.Background(), argv, &out, &errb)
	return out.String(), errb.String(), code
}

// stderrLines is the non-empty lines of stderr that are not JSON log records.
func stderrLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if l != "" && !strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestRunHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"specs", "lint", "--help"}} {
		out, errOut, code := runCLI(t, args...)
		if code != fail.OK {
			t.Errorf("%v: exit %d, want 0 (stderr %q)", args, code, errOut)
		}
		if !strings.Contains(out, "USAGE") && !strings.Contains(out, "OPTIONS") {
			t.Errorf("%v: stdout has no usage:\n%s", args, out)
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	lake := t.TempDir()
	for _, c := range []struct {
		args []string
		want string // the one stderr line
		// help: urfave/cli shows the command's help on stdout for a missing required flag.
		help bool
	}{
		{[]string{"--no-such-flag", "run"}, "worker: flag provided but not defined: -no-such-flag", false},
		{[]string{"--lake", lake, "run"}, "worker: give --partition DATE or --start DATE --end DATE", false},
		{[]string{"--lake", lake, "silver", "build", "--table", "orders"}, `worker: Required flag "partition" not set`, true},
		{[]string{"--log-level", "loud", "specs", "lint"}, `worker: --log-level "loud": want debug, info, warn or error`, false},
	} {
		out, errOut, code := runCLI(t, c.args...)
		if code != fail.BadUsage {
			t.Errorf("%v: exit %d, want %d", c.args, code, fail.BadUsage)
		}
		if lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n"); len(lines) != 1 || lines[0] != c.want {
			t.Errorf("%v: stderr %q, want the one line %q", c.args, errOut, c.want)
		}
		if (out != "") != c.help {
			t.Errorf("%v: stdout %q, want help %v", c.args, out, c.help)
		}
	}
}

// A bad spec is exit 2, every mistake listed as file:line:col before one summary line.
func TestRunSpecsLintBadSpec(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bad")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := `pipeline: bad
bronze:
  tables:
    - name: orders
      columns:
        - {name: order_id, type: VARCHAR}
base_silver:
  tables:
    - name: orders
      source: orders
      primay_key: [order_id]
      columns:
        - {name: order_id, type: VARCHAR}
`
	if err := os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "--specs", dir, "specs", "lint")
	if code != fail.BadUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, fail.BadUsage, errOut)
	}
	lines := stderrLines(errOut)
	pos := regexp.MustCompile(`^.*bad/pipeline\.yaml:11:7: unknown field "primay_key"`)
	if len(lines) != 2 || !pos.MatchString(lines[0]) || lines[1] != "worker: the spec has 1 error(s)" {
		t.Errorf("stderr lines %q, want file:line:col of primay_key then the summary", lines)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}

	// The same spec passes once fixed.
	fixed := strings.Replace(bad, "primay_key", "primary_key", 1)
	if err := os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runCLI(t, "--specs", dir, "specs", "lint"); code != fail.OK || !strings.Contains(out, "pipeline.yaml: ok") {
		t.Errorf("fixed spec: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// jaffle_shop's vendored dbt seeds go through bronze import and the spine in-process.
func TestRunJaffleShop(t *testing.T) {
	specDir, seeds := "../specs/jaffle_shop", "../specs/jaffle_shop/seeds"
	lake := t.TempDir()
	const part = "2018-04-09"
	base := []string{"--specs", specDir, "--lake", lake}
	for _, table := range []string{"customers", "orders", "payments"} {
		args := append(append([]string{}, base...), "bronze", "import", "--table", table, "--partition", part, filepath.Join(seeds, "raw_"+table+".csv"))
		if _, errOut, code := runCLI(t, args...); code != fail.OK {
			t.Fatalf("bronze import %s: exit %d; stderr:\n%s", table, code, errOut)
		}
	}
	out, errOut, code := runCLI(t, append(base, "--run-id", "jaffle", "run", "--partition", part, "--to", "silver")...)
	if code != fail.OK || strings.Contains(out, "FAILED") {
		t.Fatalf("run --to silver: exit %d; stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for table, rows := range map[string]string{"customers": "100", "orders": "99", "payments": "113"} {
		m, err := os.ReadFile(filepath.Join(lake, "silver", table, "ingestion_dt="+part, "_MANIFEST.json"))
		if err != nil {
			t.Fatalf("silver %s not committed: %v", table, err)
		}
		if !strings.Contains(string(m), `"row_count": `+rows+",") || !strings.Contains(string(m), `"run_id": "jaffle"`) {
			t.Errorf("silver %s manifest, want %s rows by run jaffle:\n%s", table, rows, m)
		}
	}
}

// A failed gate is exit 3 with the gate's reason on one line.
func TestRunGateFailsExit3(t *testing.T) {
	dir := t.TempDir()
	spec := `pipeline: sensors
bronze:
  tables:
    - name: readings
      columns:
        - {name: id, type: VARCHAR}
        - {name: speed, type: VARCHAR}
base_silver:
  tables:
    - name: readings
      source: readings
      primary_key: [id]
      columns:
        - {name: id, type: VARCHAR, not_null: true}
        - {name: speed, type: INTEGER}
      thresholds: {max_quarantine_rate: 0.05}
`
	csv := "id,speed\nr1,12\nr2,twelve\nr3,7\n"
	if err := os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "readings.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--specs", dir, "--lake", filepath.Join(dir, "lake"), "--run-id", "r1"}
	if _, errOut, code := runCLI(t, append(base, "bronze", "import", "--table", "readings", "--partition", "2026-11-20", filepath.Join(dir, "readings.csv"))...); code != fail.OK {
		t.Fatalf("bronze import: exit %d; stderr:\n%s", code, errOut)
	}
	if _, errOut, code := runCLI(t, append(base, "silver", "build", "--table", "readings", "--partition", "2026-11-20")...); code != fail.OK {
		t.Fatalf("silver build: exit %d; stderr:\n%s", code, errOut)
	}
	_, errOut, code := runCLI(t, append(base, "silver", "validate", "--table", "readings", "--partition", "2026-11-20")...)
	if code != fail.BadData {
		t.Fatalf("silver validate: exit %d, want %d; stderr:\n%s", code, fail.BadData, errOut)
	}
	lines := stderrLines(errOut)
	if len(lines) != 1 || !strings.Contains(lines[0], "quarantine_rate") || !strings.Contains(lines[0], "cast_failed:speed 1") {
		t.Errorf("stderr lines %q, want one line with the rate and the top reason", lines)
	}
}

// A sensor whose manifest never arrives has nothing to do: exit 4, not a failure.
func TestRunNothingToDoExit4(t *testing.T) {
	_, errOut, code := runCLI(t, "--lake", t.TempDir(), "bronze", "validate", "--table", "orders", "--partition", "2026-11-20", "--wait", "1ms")
	if code != fail.Nothing {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, fail.Nothing, errOut)
	}
	if lines := stderrLines(errOut); len(lines) != 1 || !strings.Contains(lines[0], "manifest did not arrive") {
		t.Errorf("stderr lines %q, want the one reason line", lines)
	}
}

// worker demo end to end at a small scale: silver's quarantine matches the
// generator's ledger and the report shows the layers and marts it built.
func TestRunDemo(t *testing.T) {
	lake := t.TempDir()
	out, errOut, code := runCLI(t, "--lake", lake, "demo", "--days", "1", "--scale", "0.0005")
	if code != fail.OK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"== generate: 1 days from 2026-11-20, scale 0.0005, fault rate 0.01, into file://" + lake,
		"bronze 2026-11-20..2026-11-20 written; ledger of ",
		" 0 missing, 0 unexpected",
		"== quarantine reasons (all days)",
		"== enriched.daily_metrics",
		"== gold.fct_daily_sales",
		"== gold.fct_customers (top 5 by lifetime revenue)",
		`query it: worker --lake ` + lake + ` sql "SELECT * FROM enriched.customer_ltv LIMIT 5"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

// A lake flag that names no valid lake is a usage error (2); a lake folder the
// machine cannot make (a file in the way, a read-only volume) is infrastructure (1).
func TestLakeOpenExitCodes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lake string
		code int
		says string
	}{
		{"gs://Not_A_Bucket!/p", fail.BadUsage, "is not a valid bucket name"},
		{"gs://bucket/../x", fail.BadUsage, "prefix"},
		{filepath.Join(file, "lake"), fail.Internal, "not a directory"},
	} {
		_, errOut, code := runCLI(t, "--lake", c.lake, "bronze", "validate", "--table", "orders", "--partition", "2026-11-20")
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("--lake %s: exit %d, stderr %q; want %d saying %q", c.lake, code, errOut, c.code, c.says)
		}
	}
}
