package lake_test

import (
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/laketest"
)

func TestLocalConformance(t *testing.T) {
	laketest.Run(t, func(t *testing.T) lake.Lake {
		l, err := lake.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

func TestParseDateAndRunIDs(t *testing.T) {
	for _, bad := range []string{"../x", "2026-13-45", "2026-02-30", "20261120", ""} {
		if _, err := lake.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	if _, err := lake.ParseDate("2026-11-20"); err != nil {
		t.Error(err)
	}
	if got := lake.SafeRunID("scheduled__2026-11-20T03:00:00+00:00"); got != "scheduled__2026-11-20T03_00_00_00_00" {
		t.Errorf("SafeRunID = %s", got)
	}
	if lake.CheckRunID("../x") == nil || lake.CheckRunID("a b") == nil || lake.CheckRunID("r-1.2_x") != nil {
		t.Error("CheckRunID misjudges")
	}
}
