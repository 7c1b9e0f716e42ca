package silver_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// readingsSpec has an INTEGER column fed text, an accepted_values column and a
// not_null one, under a strict rate (with the floor left to the test).
const readingsSpec = `pipeline: t
bronze:
  tables:
    - name: readings
      columns:
        - {name: id, type: VARCHAR}
        - {name: speed, type: VARCHAR}
        - {name: unit, type: VARCHAR}
        - {name: owner, type: VARCHAR}
base_silver:
  tables:
    - name: readings
      source: readings
      primary_key: [id]
      columns:
        - {name: id, type: VARCHAR, not_null: true}
        - {name: speed, type: INTEGER}
        - {name: unit, type: VARCHAR, accepted_values: [kmh, mph]}
        - {name: owner, type: VARCHAR, not_null: true}
      thresholds: {max_quarantine_rate: 0.01, max_row_loss: 0.5}
`

// TestFailedGateNamesTopReasonsWithRawValues: the one-line error and the report of
// a failed rate say which rules rejected the rows, how many, and what the raw
// values looked like, most frequent first.
func TestFailedGateNamesTopReasonsWithRawValues(t *testing.T) {
	env := newEnv(t, readingsSpec, "run1")
	long := "this value is far too long to show in one line of an error message"
	writeBronze(t, env, "readings", day, [][]any{
		{"r01", "twelve", "kmh", "ann"},
		{"r02", "twelve", "kmh", "ann"},
		{"r03", "twelve", "kmh", "ann"},
		{"r04", "12,5x", "kmh", "ann"},
		{"r05", "12,5x", "kmh", "ann"},
		{"r06", long, "kmh", "ann"},
		{"r07", "7", "knots", "ann"},
		{"r08", "8", "knots", "ann"},
		{"r09", "9", "kmh", nil},
		{"r10", "10", "kmh", "  "},
		{nil, "11", "kmh", "ann"},
		{"r12", "12", "mph", "ann"},
	})
	ctx := context.Background()
	if _, err := silver.Build(ctx, env, silver.Options{Table: "readings", Partition: day}); err != nil {
		t.Fatal(err)
	}
	_, rep, err := silver.Validate(ctx, env, silver.Options{Table: "readings", Partition: day})
	if fail.Code(err) != fail.BadData {
		t.Fatalf("validate: code %d, err %v; want exit 3", fail.Code(err), err)
	}
	msg := err.Error()
	want := "silver validate readings partition " + day + ": quarantine_rate: 0.9167 exceeds the spec's maximum 0.01 (11 of 12 rows quarantined); " +
		"top reasons [cast_failed:speed 6, e.g. 'twelve', '12,5x', 'this value is far too long to show in...'; " +
		"accepted_values:unit 2, e.g. 'knots'; not_null:owner 2, e.g. NULL, '  '; and 1 more reason, 1 row]; " +
		"row_loss: 0.9167 exceeds the spec's maximum 0.5 (11 of 12 rows lost: 11 quarantined, 0 deduplicated)"
	if msg != want {
		t.Errorf("error =\n%s\nwant\n%s", msg, want)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}

	// The report, as written to the lake, carries every reason with up to 5 values.
	b, err := lake.ReadAll(ctx, env.Lake, audit.ReportPath(day, "run1", spec.TaskSilverValidate, "readings"))
	if err != nil {
		t.Fatal(err)
	}
	var written audit.Report
	if err := json.Unmarshal(b, &written); err != nil {
		t.Fatal(err)
	}
	var q *audit.Check
	for i := range written.Checks {
		if written.Checks[i].Name == "quarantine_rate" {
			q = &written.Checks[i]
		}
	}
	if q == nil || q.Status != audit.Fail {
		t.Fatalf("report has no failed quarantine_rate check: %+v", written.Checks)
	}
	var got []string
	for _, r := range q.Reasons {
		vals := make([]string, len(r.Samples))
		for i, v := range r.Samples {
			vals[i] = audit.Sample(v)
		}
		got = append(got, r.Reason+" "+r.Column+" "+itoa(r.Rows)+" "+strings.Join(vals, ","))
	}
	wantReasons := []string{
		"cast_failed:speed speed 6 'twelve','12,5x','this value is far too long to show in...'",
		"accepted_values:unit unit 2 'knots'",
		"not_null:owner owner 2 NULL,'  '",
		"pk_null id 1 NULL",
	}
	if strings.Join(got, "\n") != strings.Join(wantReasons, "\n") {
		t.Errorf("report reasons =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantReasons, "\n"))
	}
	if len(rep.Checks) != len(written.Checks) {
		t.Errorf("returned report has %d checks, written %d", len(rep.Checks), len(written.Checks))
	}
}

// TestRateFloorPassesOneBadRowOfTen: with min_rows_for_rate, one bad row of ten is
// judged over the floor and passes with a note; most rows bad still fail.
func TestRateFloorPassesOneBadRowOfTen(t *testing.T) {
	floored := strings.Replace(readingsSpec, "{max_quarantine_rate: 0.01, max_row_loss: 0.5}",
		"{max_quarantine_rate: 0.05, max_row_loss: 0.10, min_rows_for_rate: 100}", 1)
	rows := func(bad int) [][]any {
		var out [][]any
		for i := range 10 {
			speed := "10"
			if i < bad {
				speed = "fast"
			}
			out = append(out, []any{"r" + itoa(int64(i)), speed, "kmh", "ann"})
		}
		return out
	}
	ctx := context.Background()
	for _, tt := range []struct {
		bad     int
		fails   bool
		message string
	}{
		{1, false, "0.1 (1 of 10 rows quarantined) taken over min_rows_for_rate 100 rows: 0.01 <= 0.05"},
		{6, true, "0.6 (6 of 10 rows quarantined) taken over min_rows_for_rate 100 rows: 0.06 exceeds the spec's maximum 0.05; top reasons [cast_failed:speed 6, e.g. 'fast']"},
	} {
		env := newEnv(t, floored, "run1")
		writeBronze(t, env, "readings", day, rows(tt.bad))
		if _, err := silver.Build(ctx, env, silver.Options{Table: "readings", Partition: day}); err != nil {
			t.Fatal(err)
		}
		_, rep, err := silver.Validate(ctx, env, silver.Options{Table: "readings", Partition: day})
		if (err != nil) != tt.fails {
			t.Errorf("%d bad of 10: err = %v, want failure %v", tt.bad, err, tt.fails)
		}
		for _, c := range rep.Checks {
			if c.Name == "quarantine_rate" && c.Message != tt.message {
				t.Errorf("%d bad of 10: quarantine_rate message =\n%s\nwant\n%s", tt.bad, c.Message, tt.message)
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
