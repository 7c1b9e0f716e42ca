package crash

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// TestRollbackAndGCCLI: rollback points silver and quarantine back at an earlier
// run (and survives a kill at its swap), and gc removes only what nothing
// references once it is past the grace period.
func TestRollbackAndGCCLI(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	for _, run := range []string{"r1", "r2"} {
		stage(t, l, lake.Silver, "customers", silverPK, day, run, customersQuery(0, 3, run, day), customersQuery(10, 2, run, day))
		stage(t, l, lake.Quarantine, "customers", silverPK, day, run, customersQuery(0, 1, run, day))
		passReport(t, l, run, spec.TaskSilverValidate, "customers", day)
		if _, stderr, code := runWorker(t, nil, "--lake", l.Root(), "--run-id", run, "publish", "--layer", "silver", "--table", "customers", "--partition", day); code != 0 {
			t.Fatalf("publish %s: exit %d\n%s", run, code, stderr)
		}
	}
	rollback := func(to string) []string {
		return []string{"--lake", l.Root(), "--run-id", "ops", "rollback", "--layer", "silver", "--table", "customers", "--partition", day, "--to", to}
	}
	if _, stderr, code := runWorker(t, nil, rollback("nope")...); code != 2 || !strings.Contains(stderr, "never committed") {
		t.Errorf("rollback to an unknown run: exit %d\n%s", code, stderr)
	}

	// Killed before its silver swap: quarantine may already be r1, silver is intact.
	p := startPaused(t, "silver:swap-commit-point", rollback("r1")...)
	p.kill(t)
	if v, err := read(ctx, l, lake.Silver, "customers", silverPK, day); err != nil || v.run != "r2" {
		t.Errorf("after a killed rollback: silver %+v, %v", v, err)
	}
	if _, stderr, code := runWorker(t, nil, rollback("r1")...); code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, stderr)
	}
	for _, layer := range []string{lake.Silver, lake.Quarantine} {
		v, err := read(ctx, l, layer, "customers", silverPK, day)
		if err != nil || v.run != "r1" {
			t.Errorf("%s after rollback: %+v, %v", layer, v, err)
		}
	}
	m, _, _ := lake.ReadManifest(ctx, l, "silver/customers/ingestion_dt="+day+"/_MANIFEST.json")
	if m.RolledBackFrom != "r2" {
		t.Errorf("rolled_back_from = %q, want r2", m.RolledBackFrom)
	}

	// gc: nothing is old enough yet; 100 hours later r2 and the staging go, r1 stays.
	out, stderr, code := runWorker(t, nil, "--lake", l.Root(), "gc", "--grace", "72h")
	if code != 0 || !strings.Contains(out, "removed 0 folders") {
		t.Errorf("gc now: exit %d, %s %s", code, out, stderr)
	}
	later := "--now=" + timeIn(100)
	out, _, code = runWorker(t, nil, "--lake", l.Root(), later, "gc", "--grace", "3d", "--dry-run")
	if code != 0 || !strings.Contains(out, "would remove") || !strings.Contains(out, "silver/customers/ingestion_dt="+day+"/run=r2/") {
		t.Errorf("gc --dry-run: exit %d\n%s", code, out)
	}
	out, _, code = runWorker(t, nil, "--lake", l.Root(), later, "gc", "--grace", "72h")
	if code != 0 || !strings.Contains(out, "removed 4 folders") || strings.Contains(out, "run=r1") {
		t.Errorf("gc: exit %d\n%s", code, out)
	}
	for _, layer := range []string{lake.Silver, lake.Quarantine} {
		if v, err := read(ctx, l, layer, "customers", silverPK, day); err != nil || v.run != "r1" {
			t.Errorf("%s after gc: %+v, %v", layer, v, err)
		}
	}
	if _, err := l.Stat(ctx, "silver/customers/ingestion_dt="+day+"/run=r2/_MANIFEST.json"); err == nil {
		t.Error("gc left the unreferenced run r2")
	}
}

// timeIn is the RFC 3339 time the given number of hours from now.
func timeIn(hours int) string {
	return time.Now().Add(time.Duration(hours) * time.Hour).UTC().Format(time.RFC3339)
}
