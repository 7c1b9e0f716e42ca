package lake

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestBudgetRefusesDownloadsBeyondTheLimit(t *testing.T) {
	ctx := context.Background()
	local, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if WithBudget(local, 10) != Lake(local) {
		t.Error("a local lake got a budget: DuckDB reads it in place, nothing is staged")
	}
	for _, p := range []string{"a", "b"} {
		if _, err := WriteBytes(ctx, local, p, []byte(strings.Repeat("x", 60)), Precondition{}); err != nil {
			t.Fatal(err)
		}
	}
	b := &Budgeted{Lake: local, limit: 100} // as WithBudget wraps a remote lake
	work := t.TempDir()
	if _, err := Localize(ctx, b, []string{"a"}, work); err != nil {
		t.Fatalf("first 60 bytes within 100: %v", err)
	}
	_, err = Localize(ctx, b, []string{"b"}, work)
	if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "limit 100B") {
		t.Fatalf("120 bytes over a 100-byte budget: %v", err)
	}
	if b.Used() != 60 {
		t.Errorf("used = %d, want 60 (the refused download is not charged)", b.Used())
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512MB": 512e6, "20GB": 20e9, "1.5GiB": 3 << 29, "100": 100, "2 kib": 2048} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GB", "-1MB", "ten"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}
