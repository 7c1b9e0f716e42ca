package dims_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/dims"
	"github.com/shoplake/lakehouse/tasks/publish"
)

const testSpec = `pipeline: t
bronze:
  tables:
    - name: customers
      columns:
        - {name: customer_id, type: VARCHAR}
        - {name: email, type: VARCHAR}
        - {name: updated_at, type: VARCHAR}
base_silver:
  tables:
    - name: customers
      source: customers
      primary_key: [customer_id]
      dedup: {order_by: [updated_at desc]}
      columns:
        - {name: customer_id, type: VARCHAR, not_null: true}
        - {name: email, type: VARCHAR}
        - {name: updated_at, type: TIMESTAMP}
dims:
  - {name: customers, source: customers, max_age: 24h}
`

// clock is a settable env clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newEnv(t *testing.T, runID string, c *clock) *tasks.Env {
	t.Helper()
	s, err := spec.Load(fstest.MapFS{"pipeline.yaml": {Data: []byte(testSpec)}}, "test")
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &tasks.Env{Spec: s, Lake: l, Log: logx.Discard(), RunID: runID, WorkDir: t.TempDir(),
		Duck: duck.Options{MemoryLimit: "512MB", Threads: 2}, Version: "test", Now: c.now}
}

// commitSilver commits a silver customers partition holding rows (customer_id,
// email, updated_at) as run runID, the way silver build + publish would leave it.
func commitSilver(t *testing.T, env *tasks.Env, day, runID string, rows ...[3]string) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var vals []string
	for _, r := range rows {
		vals = append(vals, fmt.Sprintf("(%s, %s, TIMESTAMP %s, DATE %s)", duck.Str(r[0]), duck.Str(r[1]), duck.Str(r[2]), duck.Str(day)))
	}
	q := "SELECT * FROM (VALUES " + strings.Join(vals, ", ") + ") v(customer_id, email, updated_at, ingestion_dt)"
	local := filepath.Join(t.TempDir(), "part.parquet")
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", q, duck.Str(local))); err != nil {
		t.Fatal(err)
	}
	dir := lake.StagingDir(runID, lake.Silver, "customers", "ingestion_dt", day)
	info, err := lake.Upload(ctx, env.Lake, local, dir+"/part-00000.parquet", lake.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	m := lake.Manifest{Version: 1, Table: "customers", Partition: map[string]string{"ingestion_dt": day}, RowCount: int64(len(rows)),
		Files: []lake.File{{Path: "part-00000.parquet", Rows: int64(len(rows)), Bytes: info.Size, CRC32C: info.CRC32C}}}
	if _, err := lake.WriteBytes(ctx, env.Lake, dir+"/_MANIFEST.json", lake.EncodeJSON(&m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lake.Commit(ctx, env.Lake, lake.CommitRequest{Layer: lake.Silver, Table: "customers", Key: "ingestion_dt",
		Value: day, RunID: runID, Now: env.Clock()}); err != nil {
		t.Fatal(err)
	}
}

// snapshotRows reads a committed dims partition: customer_id -> "email|source_partition|snapshot_dt".
func snapshotRows(t *testing.T, env *tasks.Env, day string) map[string]string {
	t.Helper()
	p, err := lake.ReadCommitted(context.Background(), env.Lake, lake.Dims, "customers", lake.DimsKey, day)
	if err != nil {
		t.Fatal(err)
	}
	locals, err := lake.Localize(context.Background(), env.Lake, p.FilePaths(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT customer_id, email, CAST(source_partition AS VARCHAR), CAST(snapshot_dt AS VARCHAR) FROM read_parquet(" +
		duck.StrList(locals) + ", hive_partitioning = false)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, email, src, snap string
		if err := rows.Scan(&id, &email, &src, &snap); err != nil {
			t.Fatal(err)
		}
		out[id] = email + "|" + src + "|" + snap
	}
	if int64(len(out)) != p.Manifest.RowCount {
		t.Errorf("snapshot %s: %d rows, manifest says %d", day, len(out), p.Manifest.RowCount)
	}
	return out
}

func changes(t *testing.T, rep *audit.Report) dims.Changes {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == "changes" {
			ch, ok := c.Observed.(dims.Changes)
			if !ok {
				t.Fatalf("changes observed = %#v", c.Observed)
			}
			if c.Status != audit.Pass {
				t.Errorf("changes check status %s, want pass (observed, not gated)", c.Status)
			}
			return ch
		}
	}
	t.Fatal("report has no changes check")
	return dims.Changes{}
}

func takeAndPublish(t *testing.T, env *tasks.Env, o dims.Options) (*audit.Record, *audit.Report) {
	t.Helper()
	rec, rep, err := dims.Snapshot(context.Background(), env, o)
	if err != nil {
		t.Fatalf("snapshot %+v: %v", o, err)
	}
	if rep.Status != audit.Pass {
		t.Fatalf("snapshot report %s: %v", rep.Status, rep.FailedMessages())
	}
	if _, err := publish.Run(context.Background(), env, publish.Options{Layer: lake.Dims, Table: o.Dim, Partition: rec.Partition}); err != nil {
		t.Fatalf("publish dims: %v", err)
	}
	return rec, rep
}

func TestSnapshotHoldsLatestVersionAndCountsChanges(t *testing.T) {
	c := &clock{time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)}
	env := newEnv(t, "s1", c)
	commitSilver(t, env, "2026-11-19", "b1",
		[3]string{"c1", "old@x", "2026-11-19 10:00:00"},
		[3]string{"c2", "two@x", "2026-11-19 11:00:00"},
		[3]string{"c4", "four@x", "2026-11-19 12:00:00"})
	commitSilver(t, env, "2026-11-20", "b2",
		// c1 updated on the 20th, with an updated_at that is *earlier*: the later
		// partition still wins (versions are ordered by partition first).
		[3]string{"c1", "new@x", "2026-11-18 09:00:00"},
		[3]string{"c3", "three@x", "2026-11-20 08:00:00"},
		[3]string{"c4", "four@x", "2026-11-20 12:00:00"}) // same values, new updated_at

	// As of the 19th: only the first partition counts.
	env.RunID = "s1"
	rec, rep := takeAndPublish(t, env, dims.Options{Dim: "customers", Partition: "2026-11-19"})
	if rec.RowsIn != 3 || rec.RowsOut != 3 || rec.RowsDeduplicated != 0 {
		t.Errorf("audit as of 11-19: in %d out %d dedup %d", rec.RowsIn, rec.RowsOut, rec.RowsDeduplicated)
	}
	if ch := changes(t, rep); ch.PreviousSnapshot != "" || ch.NewKeys != 3 {
		t.Errorf("first snapshot changes = %+v", ch)
	}
	got := snapshotRows(t, env, "2026-11-19")
	if got["c1"] != "old@x|2026-11-19|2026-11-19" || len(got) != 3 {
		t.Errorf("snapshot 11-19 = %v", got)
	}

	// Default partition: the source's latest committed one (the 20th).
	env.RunID = "s2"
	rec, rep = takeAndPublish(t, env, dims.Options{Dim: "customers"})
	if rec.Partition != "2026-11-20" {
		t.Fatalf("default snapshot_dt = %s, want the latest silver partition 2026-11-20", rec.Partition)
	}
	if rec.RowsIn != 6 || rec.RowsOut != 4 || rec.RowsDeduplicated != 2 || rec.RowsIn != rec.RowsOut+rec.RowsDeduplicated {
		t.Errorf("audit as of 11-20: in %d out %d dedup %d", rec.RowsIn, rec.RowsOut, rec.RowsDeduplicated)
	}
	got = snapshotRows(t, env, "2026-11-20")
	want := map[string]string{
		"c1": "new@x|2026-11-20|2026-11-20",
		"c2": "two@x|2026-11-19|2026-11-20",
		"c3": "three@x|2026-11-20|2026-11-20",
		"c4": "four@x|2026-11-20|2026-11-20",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("snapshot 11-20 =\n%v\nwant\n%v", got, want)
	}
	// c3 is new; c1 changed its email, c4 its updated_at; nothing was removed.
	ch := changes(t, rep)
	if ch != (dims.Changes{PreviousSnapshot: "2026-11-19", PreviousRun: "s1", NewKeys: 1, ChangedRows: 2, RemovedKeys: 0}) {
		t.Errorf("changes = %+v", ch)
	}
	for _, name := range []string{"row_count", "key_unique", "pk_not_null"} {
		found := false
		for _, c := range rep.Checks {
			found = found || (c.Name == name && c.Status == audit.Pass)
		}
		if !found {
			t.Errorf("report lacks a passing %s check: %+v", name, rep.Checks)
		}
	}
	// The report is in the lake where publish looks for it.
	b, err := lake.ReadAll(context.Background(), env.Lake, audit.ReportPath("2026-11-20", "s2", spec.TaskDimsSnapshot, "customers"))
	if err != nil || !json.Valid(b) {
		t.Fatalf("report not written: %v", err)
	}
	ptr, _, err := lake.ReadPointer(context.Background(), env.Lake, "dims/customers/_latest.json")
	if err != nil || ptr.Partition[lake.DimsKey] != "2026-11-20" || ptr.RunID != "s2" {
		t.Errorf("pointer = %+v, %v", ptr, err)
	}
}

func TestFreshnessGate(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)}
	env := newEnv(t, "r1", c)
	commitSilver(t, env, "2026-11-20", "b1", [3]string{"c1", "a@x", "2026-11-20 10:00:00"})

	// Never published: check fails the gate (3); --if-stale takes a snapshot.
	fr, err := dims.Check(ctx, env, dims.CheckOptions{Dim: "customers"})
	if fail.Code(err) != fail.BadData || fr.Exists {
		t.Fatalf("check before any snapshot: %+v, code %d (%v)", fr, fail.Code(err), err)
	}
	takeAndPublish(t, env, dims.Options{Dim: "customers", IfStale: true})

	// Three hours later: fresh. Check passes; --if-stale skips with exit 4.
	c.t = c.t.Add(3 * time.Hour)
	fr, err = dims.Check(ctx, env, dims.CheckOptions{Dim: "customers"})
	if err != nil || !fr.Fresh || fr.SnapshotDT != "2026-11-20" || fr.RunID != "r1" || fr.Age != 3*time.Hour || fr.MaxAge != 24*time.Hour {
		t.Fatalf("check when fresh: %+v, %v", fr, err)
	}
	if !strings.Contains(fr.String(), "age=3h max_age=24h status=fresh") {
		t.Errorf("freshness line = %q", fr.String())
	}
	env.RunID = "r2"
	rec, _, err := dims.Snapshot(ctx, env, dims.Options{Dim: "customers", IfStale: true})
	if fail.Code(err) != fail.Nothing {
		t.Fatalf("fresh --if-stale: code %d, err %v; want 4", fail.Code(err), err)
	}
	wantMsg := "dims customers: latest snapshot 2026-11-20 (run r1) is 3h old, younger than max_age 24h: nothing to do"
	if err.Error() != wantMsg {
		t.Errorf("skip message = %q\nwant %q", err.Error(), wantMsg)
	}
	if rec.Status != audit.StatusSkipped || rec.ExitCode != fail.Nothing {
		t.Errorf("skip audit = %s / %d", rec.Status, rec.ExitCode)
	}
	if _, err := lake.ReadStaged(ctx, env.Lake, "r2", lake.Dims, "customers", lake.DimsKey, "2026-11-20"); err == nil {
		t.Error("a skipped snapshot staged something")
	}

	// 25 hours after the commit: stale. Check fails (3); --if-stale refreshes.
	c.t = c.t.Add(22 * time.Hour)
	fr, err = dims.Check(ctx, env, dims.CheckOptions{Dim: "customers"})
	if fail.Code(err) != fail.BadData || fr.Fresh || fr.Age != 25*time.Hour {
		t.Fatalf("check when stale: %+v, code %d", fr, fail.Code(err))
	}
	commitSilver(t, env, "2026-11-21", "b2", [3]string{"c1", "b@x", "2026-11-21 10:00:00"})
	env.RunID = "r3"
	takeAndPublish(t, env, dims.Options{Dim: "customers", IfStale: true})
	if got := snapshotRows(t, env, "2026-11-21"); got["c1"] != "b@x|2026-11-21|2026-11-21" {
		t.Errorf("refreshed snapshot = %v", got)
	}
	fr, err = dims.Check(ctx, env, dims.CheckOptions{Dim: "customers"})
	if err != nil || !fr.Fresh || fr.RunID != "r3" || fr.Age != 0 {
		t.Errorf("check after refresh: %+v, %v", fr, err)
	}
}

func TestPublishDimsNeedsAPassingSnapshotReport(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)}
	env := newEnv(t, "r1", c)
	commitSilver(t, env, "2026-11-20", "b1", [3]string{"c1", "a@x", "2026-11-20 10:00:00"})
	_, err := publish.Run(ctx, env, publish.Options{Layer: lake.Dims, Table: "customers", Partition: "2026-11-20"})
	if fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "dims.snapshot") {
		t.Fatalf("publish without a snapshot: code %d, %v", fail.Code(err), err)
	}
	if _, _, err := dims.Snapshot(ctx, env, dims.Options{Dim: "customers", Partition: "2026-11-20"}); err != nil {
		t.Fatal(err)
	}
	// Tamper with the verdict: a failed snapshot gate blocks the publish.
	if _, err := lake.WriteVerdict(ctx, env.Lake, lake.Judgement{Task: spec.TaskDimsSnapshot, RunID: "r1", Table: "customers",
		Key: lake.DimsKey, Value: "2026-11-20", Layers: []string{lake.Dims}, FailedChecks: []string{"row_count"}, Now: c.now()}); err != nil {
		t.Fatal(err)
	}
	_, err = publish.Run(ctx, env, publish.Options{Layer: lake.Dims, Table: "customers", Partition: "2026-11-20"})
	if fail.Code(err) != fail.BadData {
		t.Fatalf("publish after a failed snapshot gate: code %d, %v", fail.Code(err), err)
	}
	if _, err := env.Lake.Stat(ctx, path.Join(lake.PartitionDir(lake.Dims, "customers", lake.DimsKey, "2026-11-20"), lake.ManifestFile)); err == nil {
		t.Error("a refused publish committed the partition")
	}
}

func TestSnapshotErrors(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)}
	env := newEnv(t, "r1", c)
	cases := []struct {
		o    dims.Options
		code int
	}{
		{dims.Options{Dim: "nope"}, fail.BadUsage},
		{dims.Options{Dim: "customers", Partition: "../x"}, fail.BadUsage},
		{dims.Options{Dim: "customers"}, fail.BadData},                          // nothing committed in silver
		{dims.Options{Dim: "customers", Partition: "2026-11-20"}, fail.BadData}, // ditto, as of a date
	}
	for _, tc := range cases {
		_, _, err := dims.Snapshot(ctx, env, tc.o)
		if fail.Code(err) != tc.code {
			t.Errorf("snapshot %+v: code %d (%v), want %d", tc.o, fail.Code(err), err, tc.code)
		}
	}
	if _, err := dims.Check(ctx, env, dims.CheckOptions{Dim: "nope"}); fail.Code(err) != fail.BadUsage {
		t.Errorf("check of an unknown dim: %v", err)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		3 * time.Hour: "3h", 90 * time.Minute: "1h30m", 24 * time.Hour: "24h", 45 * time.Second: "45s",
		26*time.Hour + 5*time.Minute + 20*time.Second: "26h5m", -2 * time.Hour: "-2h", 0: "0s",
	} {
		if got := dims.Human(d); got != want {
			t.Errorf("Human(%s) = %s, want %s", d, got, want)
		}
	}
}
