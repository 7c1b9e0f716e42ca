// Package laketest is the conformance suite every lake backend passes: the same
// tests run against the local directory and against GCS (an emulator in CI).
package laketest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
)

// Run runs the conformance suite; newLake returns an empty lake for each test.
func Run(t *testing.T, newLake func(t *testing.T) lake.Lake) {
	ctx := context.Background()

	t.Run("WriteReadStat", func(t *testing.T) {
		l := newLake(t)
		data := []byte("hello lake")
		info, err := lake.WriteBytes(ctx, l, "a/b/c.txt", data, lake.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(data)) || info.CRC32C != lake.CRC32C(data) || info.Generation == 0 {
			t.Errorf("write info = %+v", info)
		}
		got, err := lake.ReadAll(ctx, l, "a/b/c.txt")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read = %q, %v", got, err)
		}
		st, err := l.Stat(ctx, "a/b/c.txt")
		if err != nil || st.CRC32C != info.CRC32C || st.Size != info.Size || st.Generation != info.Generation {
			t.Errorf("stat = %+v, %v; write said %+v", st, err, info)
		}
		if !strings.HasSuffix(l.URI("a/b/c.txt"), "/a/b/c.txt") {
			t.Errorf("URI = %s", l.URI("a/b/c.txt"))
		}
	})

	t.Run("MissingObjects", func(t *testing.T) {
		l := newLake(t)
		if _, err := l.Open(ctx, "nope"); !errors.Is(err, lake.ErrNotExist) {
			t.Errorf("open missing: %v", err)
		}
		if _, err := l.Stat(ctx, "nope"); !errors.Is(err, lake.ErrNotExist) {
			t.Errorf("stat missing: %v", err)
		}
		if err := l.Delete(ctx, "nope"); err != nil {
			t.Errorf("delete missing: %v", err)
		}
		if objs, err := l.List(ctx, "nothing/"); err != nil || len(objs) != 0 {
			t.Errorf("list empty prefix: %v %v", objs, err)
		}
	})

	t.Run("PathsStayInside", func(t *testing.T) {
		l := newLake(t)
		for _, p := range []string{"../x", "/etc/passwd", "a/../../x", "a//b", ""} {
			if _, err := lake.WriteBytes(ctx, l, p, []byte("x"), lake.Precondition{}); err == nil {
				t.Errorf("write %q succeeded", p)
			}
		}
	})

	t.Run("CreateOnly", func(t *testing.T) {
		l := newLake(t)
		if _, err := lake.WriteBytes(ctx, l, "m.json", []byte("1"), lake.Precondition{DoesNotExist: true}); err != nil {
			t.Fatal(err)
		}
		_, err := lake.WriteBytes(ctx, l, "m.json", []byte("2"), lake.Precondition{DoesNotExist: true})
		if !errors.Is(err, lake.ErrPrecondition) {
			t.Fatalf("second create-only write: %v, want ErrPrecondition", err)
		}
		if got, _ := lake.ReadAll(ctx, l, "m.json"); string(got) != "1" {
			t.Errorf("create-only write overwrote: %q", got)
		}
	})

	t.Run("GenerationMatch", func(t *testing.T) {
		l := newLake(t)
		first, err := lake.WriteBytes(ctx, l, "p.json", []byte("v1"), lake.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		second, err := lake.WriteBytes(ctx, l, "p.json", []byte("v2"), lake.Precondition{GenerationMatch: first.Generation})
		if err != nil {
			t.Fatalf("swap with the current generation: %v", err)
		}
		if second.Generation == first.Generation {
			t.Error("generation did not change on write")
		}
		_, err = lake.WriteBytes(ctx, l, "p.json", []byte("v3"), lake.Precondition{GenerationMatch: first.Generation})
		if !errors.Is(err, lake.ErrPrecondition) {
			t.Fatalf("stale swap: %v, want ErrPrecondition", err)
		}
		if got, _ := lake.ReadAll(ctx, l, "p.json"); string(got) != "v2" {
			t.Errorf("stale swap overwrote: %q", got)
		}
		_, err = lake.WriteBytes(ctx, l, "absent.json", []byte("x"), lake.Precondition{GenerationMatch: 12345})
		if !errors.Is(err, lake.ErrPrecondition) {
			t.Errorf("swap of an absent object: %v, want ErrPrecondition", err)
		}
	})

	t.Run("ListAndCopy", func(t *testing.T) {
		l := newLake(t)
		for _, p := range []string{"t/x=2/b", "t/x=1/a", "t/x=1/run=r/c", "u/z"} {
			if _, err := lake.WriteBytes(ctx, l, p, []byte(p), lake.Precondition{}); err != nil {
				t.Fatal(err)
			}
		}
		objs, err := l.List(ctx, "t/")
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, o := range objs {
			paths = append(paths, o.Path)
		}
		if got, want := strings.Join(paths, ","), "t/x=1/a,t/x=1/run=r/c,t/x=2/b"; got != want {
			t.Errorf("list = %s, want %s", got, want)
		}
		cp, err := l.Copy(ctx, "u/z", "v/z", lake.Precondition{DoesNotExist: true})
		if err != nil {
			t.Fatal(err)
		}
		// Both stores copy without the bytes passing through the worker.
		if !cp.CopiedBy.NotCopied() || cp.Size != 3 || cp.CRC32C != lake.CRC32C([]byte("u/z")) {
			t.Errorf("create-only copy = %+v, want a link or server-side copy with the source's size and crc32c", cp)
		}
		if got, _ := lake.ReadAll(ctx, l, "u/z"); string(got) != "u/z" {
			t.Errorf("source after copy = %q", got)
		}
		if got, _ := lake.ReadAll(ctx, l, "v/z"); string(got) != "u/z" {
			t.Errorf("copy = %q", got)
		}
		if err := l.Delete(ctx, "v/z"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Stat(ctx, "v/z"); !errors.Is(err, lake.ErrNotExist) {
			t.Errorf("deleted object still there: %v", err)
		}
	})

	t.Run("CommitProtocol", func(t *testing.T) { commitProtocol(t, newLake(t)) })
	t.Run("GCVersusPublish", func(t *testing.T) { gcVersusPublish(t, newLake(t)) })
	t.Run("ConcurrentCommits", func(t *testing.T) { concurrentCommits(t, newLake(t)) })
	t.Run("OvertakenPointer", func(t *testing.T) { overtakenPointer(t, newLake(t)) })
	t.Run("PointerAfterNoOpUpdate", func(t *testing.T) { pointerAfterNoOpUpdate(t, newLake(t)) })
}

// Stage writes a staged partition for run with the given files' contents.
func Stage(t *testing.T, l lake.Lake, layer, table, key, value, runID string, files map[string]string) {
	t.Helper()
	ctx := context.Background()
	dir := lake.StagingDir(runID, layer, table, key, value)
	m := lake.Manifest{Version: 1, Table: table, Partition: map[string]string{key: value}}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		info, err := lake.WriteBytes(ctx, l, dir+"/"+n, []byte(files[n]), lake.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		rows := int64(strings.Count(files[n], "\n"))
		m.Files = append(m.Files, lake.File{Path: n, Rows: rows, Bytes: info.Size, CRC32C: info.CRC32C})
		m.RowCount += rows
	}
	if _, err := lake.WriteBytes(ctx, l, dir+"/"+lake.ManifestFile, lake.EncodeJSON(&m), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
}

func commitProtocol(t *testing.T, l lake.Lake) {
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	req := lake.CommitRequest{Layer: "silver", Table: "orders", Key: "ingestion_dt", Value: "2026-11-20", RunID: "r1", Now: now}
	Stage(t, l, "silver", "orders", "ingestion_dt", "2026-11-20", "r1", map[string]string{"part-0.parquet": "a\nb\n"})
	res, err := lake.Commit(ctx, l, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyCommitted || res.Manifest.RunID != "r1" || res.Manifest.Files[0].Path != "run=r1/part-0.parquet" {
		t.Errorf("first commit: %+v", res.Manifest)
	}
	if pl := res.Placed; pl.Files != 1 || pl.Bytes != 4 || pl.BytesNotCopied != 4 {
		t.Errorf("first commit placed %+v, want 1 file of 4 bytes, none copied through the worker", pl)
	}
	// The staging stays readable after the commit (worker sql --run, a retried publish).
	if got, _ := lake.ReadAll(ctx, l, lake.StagingDir("r1", "silver", "orders", "ingestion_dt", "2026-11-20")+"/part-0.parquet"); string(got) != "a\nb\n" {
		t.Errorf("staged file after commit = %q", got)
	}
	p, err := lake.ReadCommitted(ctx, l, "silver", "orders", "ingestion_dt", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := lake.ReadAll(ctx, l, p.FilePaths()[0]); string(got) != "a\nb\n" {
		t.Errorf("committed file = %q", got)
	}
	again, err := lake.Commit(ctx, l, req)
	if err != nil || !again.AlreadyCommitted || again.Placed.ByMethod["present"] != 1 || again.Placed.BytesNotCopied != 0 {
		t.Errorf("recommit: %+v %v, want a no-op finding its file present", again, err)
	}

	Stage(t, l, "silver", "orders", "ingestion_dt", "2026-11-20", "r2", map[string]string{"part-0.parquet": "c\n"})
	req2 := req
	req2.RunID = "r2"
	res2, err := lake.Commit(ctx, l, req2)
	if err != nil {
		t.Fatal(err)
	}
	if res2.PreviousRunID != "r1" || res2.Manifest.RowCount != 1 {
		t.Errorf("second run: %+v", res2)
	}
	ptr, _, err := lake.ReadPointer(ctx, l, "silver/orders/_latest.json")
	if err != nil || ptr.RunID != "r2" || ptr.Partition["ingestion_dt"] != "2026-11-20" {
		t.Errorf("pointer = %+v, %v", ptr, err)
	}
	// The first run's files stay: a rollback can point back at them.
	if _, err := l.Stat(ctx, "silver/orders/ingestion_dt=2026-11-20/run=r1/part-0.parquet"); err != nil {
		t.Errorf("immutable run folder lost a file: %v", err)
	}
	// Backfilling an older partition moves last_commit, not the latest partition.
	Stage(t, l, "silver", "orders", "ingestion_dt", "2026-11-19", "r3", map[string]string{"part-0.parquet": "d\n"})
	req3 := req
	req3.RunID, req3.Value = "r3", "2026-11-19"
	if _, err := lake.Commit(ctx, l, req3); err != nil {
		t.Fatal(err)
	}
	ptr, _, _ = lake.ReadPointer(ctx, l, "silver/orders/_latest.json")
	if ptr.Partition["ingestion_dt"] != "2026-11-20" || ptr.LastCommit.RunID != "r3" {
		t.Errorf("pointer after backfill = %+v", ptr)
	}
	vals, err := lake.CommittedPartitions(ctx, l, "silver", "orders", "ingestion_dt")
	if err != nil || strings.Join(vals, ",") != "2026-11-19,2026-11-20" {
		t.Errorf("committed partitions = %v %v", vals, err)
	}
}

// concurrentCommits races several runs for one partition: every commit completes,
// and the commit point always names one run whose files all exist.
func concurrentCommits(t *testing.T, l lake.Lake) {
	ctx := context.Background()
	const writers = 6
	for i := 0; i < writers; i++ {
		Stage(t, l, "silver", "t", "ingestion_dt", "2026-11-20", fmt.Sprintf("r%d", i),
			map[string]string{"part-0.parquet": strings.Repeat(fmt.Sprintf("row%d\n", i), i+1)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: "silver", Table: "t", Key: "ingestion_dt",
				Value: "2026-11-20", RunID: fmt.Sprintf("r%d", i), Now: time.Now()})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent commit: %v", err)
		}
	}
	p, err := lake.ReadCommitted(ctx, l, "silver", "t", "ingestion_dt", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, f := range p.FilePaths() {
		rc, err := l.Open(ctx, f)
		if err != nil {
			t.Fatalf("listed file missing: %v", err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		n += int64(strings.Count(string(b), "\n"))
		if !strings.Contains(f, "run="+p.Manifest.RunID+"/") {
			t.Errorf("file %s is not of the committed run %s", f, p.Manifest.RunID)
		}
	}
	if n != p.Manifest.RowCount {
		t.Errorf("rows in files %d != manifest %d", n, p.Manifest.RowCount)
	}
}

// overtakenPointer: run A swaps the commit point, then run B commits completely
// before A updates the pointer. The pointer must name B, the committed run.
func overtakenPointer(t *testing.T, l lake.Lake) {
	ctx := context.Background()
	for _, r := range []string{"ra", "rb"} {
		Stage(t, l, "silver", "t", "ingestion_dt", "2026-11-20", r, map[string]string{"part-0.parquet": r + "\n"})
	}
	paused, resume := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: "silver", Table: "t", Key: "ingestion_dt", Value: "2026-11-20",
			RunID: "ra", Now: time.Now(), Step: func(step string) {
				if step == "update-pointer" {
					close(paused)
					<-resume
				}
			}})
		done <- err
	}()
	<-paused
	if _, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: "silver", Table: "t", Key: "ingestion_dt", Value: "2026-11-20",
		RunID: "rb", Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p, err := lake.ReadCommitted(ctx, l, "silver", "t", "ingestion_dt", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	ptr, _, err := lake.ReadPointer(ctx, l, "silver/t/_latest.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.Manifest.RunID != "rb" || ptr.RunID != "rb" || ptr.LastCommit.RunID != "rb" {
		t.Errorf("commit point %s, pointer %s, last_commit %s: want rb everywhere", p.Manifest.RunID, ptr.RunID, ptr.LastCommit.RunID)
	}
}

// pointerAfterNoOpUpdate: run A has read the pointer (naming b) and the commit
// point (naming a) and is about to write the pointer; meanwhile the partition is
// pointed back at b, whose pointer update finds the pointer already naming b and
// writes nothing. A's write still matches the pointer's generation; it must not
// leave the pointer naming a while the commit point names b.
func pointerAfterNoOpUpdate(t *testing.T, l lake.Lake) {
	ctx := context.Background()
	for _, r := range []string{"ra", "rb"} {
		Stage(t, l, "silver", "t", "ingestion_dt", "2026-11-20", r, map[string]string{"part-0.parquet": r + "\n"})
	}
	req := func(run string, step func(string)) lake.CommitRequest {
		return lake.CommitRequest{Layer: "silver", Table: "t", Key: "ingestion_dt", Value: "2026-11-20", RunID: run, Now: time.Now(), Step: step}
	}
	if _, err := lake.Commit(ctx, l, req("rb", nil)); err != nil {
		t.Fatal(err)
	}
	paused, resume := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		once := false
		_, err := lake.Commit(ctx, l, req("ra", func(step string) {
			if step == "write-pointer" && !once {
				once = true
				close(paused)
				<-resume
			}
		}))
		done <- err
	}()
	<-paused
	if _, err := lake.Realign(ctx, l, lake.RollbackRequest{Layer: "silver", Table: "t", Key: "ingestion_dt",
		Value: "2026-11-20", RunID: "rb", Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p, err := lake.ReadCommitted(ctx, l, "silver", "t", "ingestion_dt", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	ptr, _, err := lake.ReadPointer(ctx, l, "silver/t/_latest.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.Manifest.RunID != "rb" || ptr.RunID != p.Manifest.RunID {
		t.Errorf("commit point names %s, pointer %s: want rb in both", p.Manifest.RunID, ptr.RunID)
	}
}
