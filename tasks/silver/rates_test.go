package silver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
)

func TestRateCheckFloorsAndDigits(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	n := func(v int64) *int64 { return &v }
	tests := []struct {
		name      string
		bad, in   int64
		max       *float64
		floor     *int64
		status    string
		observed  float64
		message   string
		notInText string
	}{
		{"no threshold", 5, 10, nil, nil, audit.Pass, 0.5, "no threshold in the spec (5 of 10 bad)", ""},
		{"within", 1, 100, f(0.05), nil, audit.Pass, 0.01, "0.01 <= 0.05 (1 of 100 bad)", "min_rows_for_rate"},
		{"one bad row of ten, no floor", 1, 10, f(0.05), nil, audit.Fail, 0.1, "0.1 exceeds the spec's maximum 0.05 (1 of 10 bad); top reasons [x 1]", ""},
		{"one bad row of ten, below the floor", 1, 10, f(0.05), n(100), audit.Pass, 0.1,
			"0.1 (1 of 10 bad) taken over min_rows_for_rate 100 rows: 0.01 <= 0.05", "top reasons"},
		{"most rows bad, below the floor", 6, 10, f(0.05), n(100), audit.Fail, 0.6,
			"0.6 (6 of 10 bad) taken over min_rows_for_rate 100 rows: 0.06 exceeds the spec's maximum 0.05; top reasons [x 1]", ""},
		{"at the floor the rate is plain", 6, 100, f(0.05), n(100), audit.Fail, 0.06, "0.06 exceeds the spec's maximum 0.05 (6 of 100 bad)", "taken over"},
		{"above the floor", 7, 120, f(0.05), n(100), audit.Fail, 0.0583333, "0.05833 exceeds the spec's maximum 0.05 (7 of 120 bad)", "taken over"},
		{"tiny rate gets its digits", 38, 1_000_000, f(0.01), nil, audit.Pass, 3.8e-05, "3.8e-05 <= 0.01 (38 of 1000000 bad)", ""},
		{"just over keeps the digits that differ", 100_040, 1_000_000, f(0.1), nil, audit.Fail, 0.10004, "0.10004 exceeds the spec's maximum 0.1", ""},
		{"empty partition", 0, 0, f(0.05), n(100), audit.Pass, 0, "0 (0 of 0 bad) taken over min_rows_for_rate 100 rows: 0 <= 0.05", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			detail := fmt.Sprintf("%d of %d bad", tt.bad, tt.in)
			c := rateCheck("quarantine_rate", tt.bad, tt.in, tt.max, tt.floor, detail, "top reasons [x 1]")
			if c.Status != tt.status {
				t.Errorf("status = %s, want %s (%s)", c.Status, tt.status, c.Message)
			}
			if c.Observed != tt.observed {
				t.Errorf("observed = %v, want %v", c.Observed, tt.observed)
			}
			if !strings.Contains(c.Message, tt.message) {
				t.Errorf("message = %q, want it to contain %q", c.Message, tt.message)
			}
			if tt.notInText != "" && strings.Contains(c.Message, tt.notInText) {
				t.Errorf("message = %q, should not say %q", c.Message, tt.notInText)
			}
			if tt.max != nil && c.Threshold != *tt.max {
				t.Errorf("threshold = %v, want %v", c.Threshold, *tt.max)
			}
		})
	}
}
