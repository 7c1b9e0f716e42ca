package audit

import (
	"strings"
	"testing"
)

func TestRatesReadAsTheirComparison(t *testing.T) {
	tests := []struct {
		observed, limit float64
		want            [2]string
	}{
		{3.8e-05, 0.01, [2]string{"3.8e-05", "0.01"}},
		{0.9931034, 0.05, [2]string{"0.9931", "0.05"}},
		{0.1, 0.05, [2]string{"0.1", "0.05"}},
		// Four digits would print "0.1 exceeds 0.1".
		{0.10004, 0.1, [2]string{"0.10004", "0.1"}},
		{0.0999999, 0.1, [2]string{"0.0999999", "0.1"}},
		{0.1, 0.1, [2]string{"0.1", "0.1"}},
		{0, 0.05, [2]string{"0", "0.05"}},
	}
	for _, tt := range tests {
		a, b := Rates(tt.observed, tt.limit)
		if [2]string{a, b} != tt.want {
			t.Errorf("Rates(%v, %v) = %q, %q; want %q", tt.observed, tt.limit, a, b, tt.want)
		}
	}
}

func TestSignificantKeepsSmallRates(t *testing.T) {
	for in, want := range map[float64]float64{3.8e-08: 3.8e-08, 0.123456789: 0.123457, 0: 0, 1: 1} {
		if got := Significant(in); got != want {
			t.Errorf("Significant(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestSampleQuotesEscapesAndCuts(t *testing.T) {
	s := func(v string) *string { return &v }
	long := strings.Repeat("x", 60)
	tests := []struct {
		in   *string
		want string
	}{
		{nil, "NULL"},
		{s("NA"), "'NA'"},
		{s(""), "''"},
		{s("   "), "'   '"},
		{s("it's"), `'it\'s'`},
		{s("a\nb\tc"), `'a\nb\tc'`},
		{s("nbsp\u00a0"), `'nbsp\u00a0'`},
		{s(long), "'" + strings.Repeat("x", 37) + "...'"},
		{s(strings.Repeat("é", 40)), "'" + strings.Repeat("é", 40) + "'"},
	}
	for _, tt := range tests {
		if got := Sample(tt.in); got != tt.want {
			t.Errorf("Sample(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
	r := Reason{Reason: "cast_failed:speed", Rows: 3229, Column: "speed", Samples: []*string{s("NA"), s("n/a")}}
	if got, want := r.String(), "cast_failed:speed 3229, e.g. 'NA', 'n/a'"; got != want {
		t.Errorf("Reason.String() = %q, want %q", got, want)
	}
}
