package audit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
)

// The lake layout of audits and reports is a Contract (DESIGN section 3).
func TestPaths(t *testing.T) {
	if got, want := AuditPath("2026-11-20", "r1", "silver.build", "orders"), "_audit/dt=2026-11-20/r1/silver.build.orders.json"; got != want {
		t.Errorf("AuditPath = %s, want %s", got, want)
	}
	if got, want := ReportPath("2026-11-20", "r1", "silver.validate", "orders"), "_reports/dt=2026-11-20/r1/silver.validate.orders.json"; got != want {
		t.Errorf("ReportPath = %s, want %s", got, want)
	}
}

func TestReportFinish(t *testing.T) {
	now := time.Date(2026, 11, 20, 6, 0, 0, 5, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		name   string
		checks []string
		want   string
		failed []string
	}{
		{"no checks pass", nil, Pass, nil},
		{"all pass", []string{Pass, Pass}, Pass, nil},
		{"a warn", []string{Pass, Warn}, Warn, nil},
		{"a fail wins over a warn before it", []string{Warn, Fail, Pass}, Fail, []string{"c1"}},
		{"a fail wins over a warn after it", []string{Fail, Warn, Fail}, Fail, []string{"c0", "c2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{}
			for i, st := range c.checks {
				r.Add(Check{Name: "c" + string(rune('0'+i)), Status: st, Message: "m" + string(rune('0'+i))})
			}
			r.Finish(now)
			if r.Status != c.want {
				t.Errorf("Status = %s, want %s", r.Status, c.want)
			}
			if r.CreatedAt != "2026-11-20T05:00:00.000000005Z" {
				t.Errorf("CreatedAt = %s, want the instant in UTC", r.CreatedAt)
			}
			if !reflect.DeepEqual(r.Failed(), c.failed) {
				t.Errorf("Failed() = %v, want %v", r.Failed(), c.failed)
			}
			var msgs []string
			for _, n := range c.failed {
				msgs = append(msgs, n+": m"+n[1:])
			}
			if !reflect.DeepEqual(r.FailedMessages(), msgs) {
				t.Errorf("FailedMessages() = %v, want %v", r.FailedMessages(), msgs)
			}
		})
	}
}

// A record and a report land at their paths with the Contract's field names.
func TestWriteRecordAndReport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := lake.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := &Record{RunID: "r1", Task: "silver.build", Table: "orders", Partition: "2026-11-20", Status: StatusFailed,
		RowsIn: 10, RowsOut: 7, RowsQuarantined: 3, Error: "boom", ExitCode: 3, Reasons: map[string]int64{"cast_failed:x": 3}}
	uri, err := WriteRecord(ctx, l, rec)
	if err != nil {
		t.Fatal(err)
	}
	p := AuditPath("2026-11-20", "r1", "silver.build", "orders")
	if uri != l.URI(p) {
		t.Errorf("WriteRecord URI = %s, want %s", uri, l.URI(p))
	}
	fields := readKeys(t, filepath.Join(dir, filepath.FromSlash(p)))
	for _, f := range []string{"run_id", "task", "table", "partition", "status", "started_at", "finished_at", "duration_ms",
		"rows_in", "rows_out", "rows_quarantined", "rows_deduplicated", "peak_rss_bytes", "inputs", "outputs",
		"spec_sha256", "worker_version", "error", "exit_code", "reasons"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("audit lacks field %q: %v", f, fields)
		}
	}
	for _, f := range []string{"report", "fk_orphans"} {
		if _, ok := fields[f]; ok {
			t.Errorf("audit has empty optional field %q", f)
		}
	}

	rep := &Report{RunID: "r1", Task: "silver.validate", Table: "orders", Partition: "2026-11-20"}
	rep.Add(Check{Name: "row_count", Status: Pass, Observed: 7, Threshold: 1})
	rep.Finish(time.Unix(0, 0))
	uri, err = WriteReport(ctx, l, rep)
	if err != nil {
		t.Fatal(err)
	}
	p = ReportPath("2026-11-20", "r1", "silver.validate", "orders")
	if uri != l.URI(p) {
		t.Errorf("WriteReport URI = %s, want %s", uri, l.URI(p))
	}
	fields = readKeys(t, filepath.Join(dir, filepath.FromSlash(p)))
	if got, want := sortedKeys(fields), []string{"checks", "created_at", "partition", "run_id", "status", "table", "task"}; !reflect.DeepEqual(got, want) {
		t.Errorf("report fields %v, want %v", got, want)
	}
}

// The XCom summary condenses a record and is the JSON Airflow branches on.
func TestXComSummary(t *testing.T) {
	rec := &Record{RunID: "r1", Task: "silver.validate", Table: "orders", Partition: "2026-11-20", Status: StatusFailed,
		RowsIn: 10, RowsOut: 7, RowsQuarantined: 3, RowsDeduplicated: 1, DurationMS: 42, ExitCode: 3,
		Error: "quarantine_rate too high", Report: "file:///lake/_reports/x.json", Inputs: []IO{{URI: "in", Rows: 10}}}
	s := SummaryOf(rec, "file:///lake/_audit/x.json")
	want := Summary{Status: StatusFailed, ExitCode: 3, RunID: "r1", Task: "silver.validate", Table: "orders",
		Partition: "2026-11-20", RowsIn: 10, RowsOut: 7, RowsQuarantined: 3, RowsDeduplicated: 1, DurationMS: 42,
		Audit: "file:///lake/_audit/x.json", Report: "file:///lake/_reports/x.json", Error: "quarantine_rate too high"}
	if s != want {
		t.Errorf("SummaryOf = %+v, want %+v", s, want)
	}

	path := filepath.Join(t.TempDir(), "airflow", "xcom", "return.json")
	if err := WriteXCom(path, s); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "}\n") || strings.Count(string(b), "\n") != 1 {
		t.Errorf("xcom is not one JSON line: %q", b)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil || back != s {
		t.Errorf("xcom read back as %+v (%v), want %+v", back, err, s)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
	if got, want := sortedKeys(readKeys(t, path)), []string{"audit", "duration_ms", "error", "exit_code", "partition", "report",
		"rows_deduplicated", "rows_in", "rows_out", "rows_quarantined", "run_id", "status", "table", "task"}; !reflect.DeepEqual(got, want) {
		t.Errorf("xcom fields %v, want %v", got, want)
	}

	// A success has no error, and a task without a gate no report.
	ok := SummaryOf(&Record{Status: StatusSuccess}, "u")
	if err := WriteXCom(path, ok); err != nil {
		t.Fatal(err)
	}
	fields := readKeys(t, path)
	for _, f := range []string{"error", "report"} {
		if _, has := fields[f]; has {
			t.Errorf("success xcom has %q", f)
		}
	}
}

func readKeys(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
