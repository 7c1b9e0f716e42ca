package laketest

import (
	"context"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
)

// gcVersusPublish runs gc at every step of a publish (a deterministic race: gc
// inside the commit protocol's Step hook) with its clock set so that the staged
// data files look older than the grace while the staging's last write (the gate's
// verdict, just before the publish) does not, as in a DAG whose build ran long
// before its publish. gc must leave the files the commit point is about to name,
// and the publish must end with every committed file readable. Then a publish that
// stopped after placing its files (no run manifest yet) is kept by gc as in
// flight, and a rerun completes it.
func gcVersusPublish(t *testing.T, l lake.Lake) {
	ctx := context.Background()
	const table, key, value = "orders", "ingestion_dt", "2026-11-20"
	Stage(t, l, lake.Silver, table, key, value, "r1", map[string]string{"part-0.parquet": "a\n"})
	if _, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: lake.Silver, Table: table, Key: key, Value: value, RunID: "r1", Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	Stage(t, l, lake.Silver, table, key, value, "r2", map[string]string{"part-0.parquet": "b\n", "part-1.parquet": "c\n"})
	// Object times have a store's resolution: the verdict must be visibly newer.
	time.Sleep(1100 * time.Millisecond)
	verdict := path.Join(lake.StagingDir("r2", lake.Silver, table, key, value), "_VERDICT.json")
	vinfo, err := lake.WriteBytes(ctx, l, verdict, []byte(`{"status":"passed"}`), lake.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	// gc's now: the verdict is just inside the grace, the staged data outside it.
	now := vinfo.Updated.Add(lake.MinGrace - 500*time.Millisecond)
	gc := func(at string) lake.GCResult {
		res, err := lake.GC(ctx, l, lake.GCRequest{Grace: lake.MinGrace, Now: now})
		if err != nil {
			t.Fatalf("gc at %s: %v", at, err)
		}
		for _, f := range res.Removed {
			if strings.Contains(f.Dir, "run=r2") || f.Dir == "_staging/r2" {
				t.Errorf("gc at publish step %q removed %s, which the publish is about to commit", at, f.Dir)
			}
		}
		return res
	}
	var steps []string
	res, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: lake.Silver, Table: table, Key: key, Value: value, RunID: "r2", Now: time.Now(),
		Step: func(name string) { steps = append(steps, name); gc(name) }})
	if err != nil {
		t.Fatalf("publish raced by gc: %v", err)
	}
	if len(steps) < 5 || res.Manifest.RunID != "r2" {
		t.Fatalf("publish steps %v, commit %+v", steps, res.Manifest)
	}
	assertCommittedReadable(t, l, table, key, value, "r2")

	// A publish that placed its files and stopped: kept while its staging holds the
	// partition, whatever the files' age, and completed by a rerun.
	Stage(t, l, lake.Silver, table, key, "2026-11-21", "r3", map[string]string{"part-0.parquet": "d\n"})
	stage := lake.StagingDir("r3", lake.Silver, table, key, "2026-11-21")
	run := lake.RunDir(lake.PartitionDir(lake.Silver, table, key, "2026-11-21"), "r3")
	if _, err := l.Copy(ctx, path.Join(stage, "part-0.parquet"), path.Join(run, "part-0.parquet"), lake.Precondition{DoesNotExist: true}); err != nil {
		t.Fatal(err)
	}
	later, err := lake.GC(ctx, l, lake.GCRequest{Grace: lake.MinGrace, Now: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if later.InFlight != 1 {
		t.Errorf("gc of a stopped publish: %+v, want its run folder kept as in flight", later)
	}
	if _, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: lake.Silver, Table: table, Key: key, Value: "2026-11-21", RunID: "r3", Now: time.Now()}); err != nil {
		t.Fatalf("rerun of the stopped publish: %v", err)
	}
	assertCommittedReadable(t, l, table, key, "2026-11-21", "r3")

	if _, err := lake.GC(ctx, l, lake.GCRequest{Grace: 0, Now: time.Now()}); err == nil {
		t.Error("gc accepted a grace shorter than lake.MinGrace")
	}
}

// assertCommittedReadable checks the partition's commit point names run and
// every file it lists exists.
func assertCommittedReadable(t *testing.T, l lake.Lake, table, key, value, run string) {
	t.Helper()
	p, err := lake.ReadCommitted(context.Background(), l, lake.Silver, table, key, value)
	if err != nil {
		t.Fatal(err)
	}
	if p.Manifest.RunID != run {
		t.Errorf("%s=%s commits run %s, want %s", key, value, p.Manifest.RunID, run)
	}
	for _, f := range p.FilePaths() {
		if _, err := l.Stat(context.Background(), f); err != nil {
			t.Errorf("committed file %s is gone: %v", f, err)
		}
	}
}
