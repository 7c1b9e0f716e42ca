package crash

import (
	"context"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
)

// TestDimsFreshnessCLI drives the freshness gate through the binary with --now:
// `dims check` exits 3 when there is no snapshot or it is stale and 0 when fresh;
// `dims snapshot --if-stale` exits 4 on a fresh dim and refreshes a stale one.
func TestDimsFreshnessCLI(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	stage(t, l, lake.Silver, "customers", silverPK, day, "s1", customersQuery(0, 5, "v1", day))
	commit(t, l, lake.Silver, "customers", silverPK, day, "s1")
	w := func(now, run string, args ...string) (string, string, int) {
		t.Helper()
		base := []string{"--lake", l.Root(), "--now", now}
		if run != "" {
			base = append(base, "--run-id", run)
		}
		return runWorker(t, nil, append(base, args...)...)
	}
	check := func(now string, wantCode int, wantOut string) {
		t.Helper()
		out, stderr, code := w(now, "", "dims", "check", "--dim", "customers")
		if code != wantCode || !strings.Contains(out, wantOut) {
			t.Errorf("dims check at %s: exit %d, stdout %q (stderr %s); want exit %d with %q", now, code, out, stderr, wantCode, wantOut)
		}
	}

	check("2026-11-21T03:00:00Z", 3, "snapshot_dt=none")
	// No snapshot yet: --if-stale takes one; publish commits it.
	if _, stderr, code := w("2026-11-21T03:00:00Z", "d1", "dims", "snapshot", "--dim", "customers", "--if-stale"); code != 0 {
		t.Fatalf("first snapshot: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := w("2026-11-21T03:00:00Z", "d1", "publish", "--layer", "dims", "--table", "customers", "--partition", day); code != 0 {
		t.Fatalf("publish dims: exit %d\n%s", code, stderr)
	}

	// Three hours later: fresh.
	check("2026-11-21T06:00:00Z", 0, "snapshot_dt=2026-11-20 run=d1")
	check("2026-11-21T06:00:00Z", 0, "age=3h max_age=24h status=fresh")
	_, stderr, code := w("2026-11-21T06:00:00Z", "d2", "dims", "snapshot", "--dim", "customers", "--if-stale")
	if code != 4 || !strings.Contains(stderr, "dims customers: latest snapshot 2026-11-20 (run d1) is 3h old, younger than max_age 24h: nothing to do") {
		t.Errorf("fresh --if-stale: exit %d, stderr %s; want 4", code, stderr)
	}
	if _, err := lake.ReadStaged(ctx, l, "d2", lake.Dims, "customers", lake.DimsKey, day); err == nil {
		t.Error("a skipped snapshot staged something")
	}

	// A day and an hour after the commit: stale. New silver data arrives; the
	// refresh snapshots it as of the new latest partition.
	check("2026-11-22T04:00:00Z", 3, "age=25h max_age=24h status=stale")
	stage(t, l, lake.Silver, "customers", silverPK, "2026-11-21", "s2", customersQuery(3, 4, "v2", "2026-11-21"))
	commit(t, l, lake.Silver, "customers", silverPK, "2026-11-21", "s2")
	if _, stderr, code := w("2026-11-22T04:00:00Z", "d3", "dims", "snapshot", "--dim", "customers", "--if-stale"); code != 0 {
		t.Fatalf("stale refresh: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := w("2026-11-22T04:00:00Z", "d3", "publish", "--layer", "dims", "--table", "customers", "--partition", "2026-11-21"); code != 0 {
		t.Fatalf("publish refreshed dims: exit %d\n%s", code, stderr)
	}
	check("2026-11-22T04:30:00Z", 0, "snapshot_dt=2026-11-21 run=d3")
	// 3 keys kept from the 20th, 4 (2 updated, 2 new) from the 21st.
	v, err := read(ctx, l, lake.Dims, "customers", lake.DimsKey, "2026-11-21")
	if err != nil || v.rows != 7 || v.run != "d3" {
		t.Errorf("refreshed snapshot %+v, %v; want 7 rows of run d3", v, err)
	}
	var fromNew int64
	p, _ := lake.ReadCommitted(ctx, l, lake.Dims, "customers", lake.DimsKey, "2026-11-21")
	if err := db.QueryRow("SELECT count(*) FROM read_parquet(?, hive_partitioning = false) WHERE email LIKE '%-v2@%' AND source_partition = DATE '2026-11-21'",
		l.LocalPath(p.FilePaths()[0])).Scan(&fromNew); err != nil || fromNew != 4 {
		t.Errorf("rows from the new partition = %d, %v; want 4", fromNew, err)
	}
	// Unknown dims are usage errors.
	if _, _, code := w("2026-11-22T04:30:00Z", "", "dims", "check", "--dim", "nope"); code != 2 {
		t.Errorf("dims check --dim nope: exit %d, want 2", code)
	}
}
