package crash

import (
	"bytes"
	"context"
	"path"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// silverTemplate is a lake where run "old" is committed for silver customers
// partition D (1 silver file, 1 quarantine file) and run "new" is staged and
// gated: 5 silver files and 3 quarantine files, so one publish has 20 steps.
func silverTemplate(t *testing.T) (dir string, rows map[string][2]int64) {
	t.Helper()
	l := newLake(t)
	rows = map[string][2]int64{}
	var s, q int64
	s = stage(t, l, lake.Silver, "customers", silverPK, day, "old", customersQuery(0, 10, "old", day))
	q = stage(t, l, lake.Quarantine, "customers", silverPK, day, "old", customersQuery(0, 2, "old-q", day))
	commit(t, l, lake.Quarantine, "customers", silverPK, day, "old")
	commit(t, l, lake.Silver, "customers", silverPK, day, "old")
	rows["old"] = [2]int64{s, q}

	var sq, qq []string
	for i := 0; i < 5; i++ {
		sq = append(sq, customersQuery(i*100, 3+i, "new", day))
	}
	for i := 0; i < 3; i++ {
		qq = append(qq, customersQuery(i*100, 1+i, "new-q", day))
	}
	s = stage(t, l, lake.Silver, "customers", silverPK, day, "new", sq...)
	q = stage(t, l, lake.Quarantine, "customers", silverPK, day, "new", qq...)
	passReport(t, l, "new", spec.TaskSilverValidate, "customers", day)
	rows["new"] = [2]int64{s, q}
	return l.Root(), rows
}

// traceSteps runs the publish once with the hook on but pausing nowhere, and
// returns the steps it went through, in order.
func traceSteps(t *testing.T, template string, args func(lakeDir string) []string) []string {
	t.Helper()
	l := copyLake(t, template)
	_, stderr, code := runWorker(t, []string{"WORKER_TEST_PAUSE_AT=trace-only"}, args(l.Root())...)
	if code != 0 {
		t.Fatalf("trace publish: exit %d\n%s", code, stderr)
	}
	var steps []string
	for _, line := range strings.Split(stderr, "\n") {
		if s, ok := strings.CutPrefix(line, "step "); ok {
			steps = append(steps, s)
		}
	}
	return steps
}

func silverPublishArgs(lakeDir string) []string {
	return []string{"--lake", lakeDir, "--run-id", "new", "publish", "--layer", "silver", "--table", "customers", "--partition", day}
}

// TestPublishSurvivesSIGKILLAtEveryStep kills a silver publish (quarantine, then
// silver) at each of its steps, and a first dims publish at each of its steps:
// 27 moments. After each kill a reader sees the complete old or the complete new
// partition of each layer; rerunning the publish completes it; running it once
// more changes nothing.
func TestPublishSurvivesSIGKILLAtEveryStep(t *testing.T) {
	ctx := context.Background()
	template, rows := silverTemplate(t)
	steps := traceSteps(t, template, silverPublishArgs)
	want := []string{"quarantine:read-staged", "quarantine:copy part-00002.parquet", "quarantine:write-run-manifest",
		"quarantine:read-commit-point", "quarantine:swap-commit-point", "quarantine:update-pointer", "quarantine:done",
		"silver:read-staged", "silver:copy part-00004.parquet", "silver:swap-commit-point", "silver:done"}
	for _, w := range want {
		if !contains(steps, w) {
			t.Fatalf("publish steps %q lack %q", steps, w)
		}
	}
	dimSteps := traceSteps(t, dimsTemplate(t), dimsPublishArgs)
	if len(steps)+len(dimSteps) < 20 {
		t.Fatalf("only %d + %d kill moments", len(steps), len(dimSteps))
	}
	t.Logf("silver publish steps (%d): %q", len(steps), steps)

	for i, step := range steps {
		t.Run("silver/"+step, func(t *testing.T) {
			l := copyLake(t, template)
			p := startPaused(t, step, silverPublishArgs(l.Root())...)
			p.kill(t)

			sv, err := read(ctx, l, lake.Silver, "customers", silverPK, day)
			if err != nil {
				t.Fatalf("after a kill at %s: silver: %v", step, err)
			}
			qv, err := read(ctx, l, lake.Quarantine, "customers", silverPK, day)
			if err != nil {
				t.Fatalf("after a kill at %s: quarantine: %v", step, err)
			}
			for _, v := range []struct {
				layer string
				v     view
				rows  func(string) int64
			}{{"silver", sv, func(r string) int64 { return rows[r][0] }}, {"quarantine", qv, func(r string) int64 { return rows[r][1] }}} {
				if !v.v.exists || (v.v.run != "old" && v.v.run != "new") || v.v.rows != v.rows(v.v.run) {
					t.Errorf("after a kill at %s: %s shows run %q with %d rows; want old (%d) or new (%d) complete",
						step, v.layer, v.v.run, v.v.rows, v.rows("old"), v.rows("new"))
				}
			}
			// Quarantine is committed first: new silver never comes without its quarantine.
			if sv.run == "new" && qv.run != "new" {
				t.Errorf("after a kill at %s: silver is new but quarantine is %s", step, qv.run)
			}
			// Nothing becomes visible before the swap of its commit point.
			swapped := indexOf(steps, "silver:swap-commit-point")
			if (i > swapped) != (sv.run == "new") {
				t.Errorf("after a kill at %s (step %d): silver shows %s", step, i, sv.run)
			}
			for _, layer := range []string{lake.Silver, lake.Quarantine} {
				ptr, _, err := lake.ReadPointer(ctx, l, path.Join(layer, "customers", lake.LatestFile))
				if err != nil || (ptr.RunID != "old" && ptr.RunID != "new") {
					t.Errorf("after a kill at %s: %s pointer %+v, %v", step, layer, ptr, err)
				}
			}

			// Rerun: completes. Once more: a no-op that leaves the commit points as they are.
			if _, stderr, code := runWorker(t, nil, silverPublishArgs(l.Root())...); code != 0 {
				t.Fatalf("rerun after a kill at %s: exit %d\n%s", step, code, stderr)
			}
			before := commitPoints(t, l, lake.Silver, lake.Quarantine)
			for _, layer := range []string{lake.Silver, lake.Quarantine} {
				v, err := read(ctx, l, layer, "customers", silverPK, day)
				if err != nil || v.run != "new" {
					t.Errorf("after the rerun: %s shows %+v, %v; want new", layer, v, err)
				}
				ptr, _, err := lake.ReadPointer(ctx, l, path.Join(layer, "customers", lake.LatestFile))
				if err != nil || ptr.RunID != "new" {
					t.Errorf("after the rerun: %s pointer %+v, %v", layer, ptr, err)
				}
			}
			if _, stderr, code := runWorker(t, nil, silverPublishArgs(l.Root())...); code != 0 {
				t.Fatalf("second rerun: exit %d\n%s", code, stderr)
			}
			if after := commitPoints(t, l, lake.Silver, lake.Quarantine); !bytes.Equal(before, after) {
				t.Errorf("republishing a committed run changed a commit point")
			}
		})
	}

	dimsTmpl := dimsTemplate(t)
	for i, step := range dimSteps {
		t.Run("dims/"+step, func(t *testing.T) {
			l := copyLake(t, dimsTmpl)
			p := startPaused(t, step, dimsPublishArgs(l.Root())...)
			p.kill(t)
			v, err := read(ctx, l, lake.Dims, "customers", lake.DimsKey, day)
			if err != nil {
				t.Fatalf("after a kill at %s: %v", step, err)
			}
			swapped := indexOf(dimSteps, "dims:swap-commit-point")
			switch {
			case i <= swapped && v.exists:
				t.Errorf("after a kill at %s: the snapshot is visible before its commit point swap", step)
			case i > swapped && (!v.exists || v.run != "d1" || v.rows != 30):
				t.Errorf("after a kill at %s: snapshot %+v, want run d1 with 30 rows", step, v)
			}
			// The pointer never runs ahead of the commit point.
			ptr, _, err := lake.ReadPointer(ctx, l, "dims/customers/_latest.json")
			if err == nil && (!v.exists || ptr.RunID != v.run) {
				t.Errorf("after a kill at %s: pointer %+v, commit point %+v", step, ptr, v)
			}
			if _, stderr, code := runWorker(t, nil, dimsPublishArgs(l.Root())...); code != 0 {
				t.Fatalf("rerun after a kill at %s: exit %d\n%s", step, code, stderr)
			}
			if v, err := read(ctx, l, lake.Dims, "customers", lake.DimsKey, day); err != nil || v.run != "d1" || v.rows != 30 {
				t.Errorf("after the rerun: %+v, %v", v, err)
			}
			if out, _, code := runWorker(t, []string{"WORKER_NOW=2026-11-21T03:00:00Z"}, "--lake", l.Root(), "dims", "check", "--dim", "customers"); code != 0 {
				t.Errorf("dims check after the rerun: exit %d: %s", code, out)
			}
		})
	}
}

// dimsTemplate is a lake with silver customers committed for D (30 rows) and a
// dims customers snapshot as of D staged and reported by run d1 (the real command).
func dimsTemplate(t *testing.T) string {
	t.Helper()
	l := newLake(t)
	stage(t, l, lake.Silver, "customers", silverPK, day, "s1", customersQuery(0, 20, "a", day), customersQuery(20, 10, "b", day))
	commit(t, l, lake.Silver, "customers", silverPK, day, "s1")
	if _, stderr, code := runWorker(t, nil, "--lake", l.Root(), "--run-id", "d1", "dims", "snapshot", "--dim", "customers", "--partition", day); code != 0 {
		t.Fatalf("dims snapshot: exit %d\n%s", code, stderr)
	}
	return l.Root()
}

func dimsPublishArgs(lakeDir string) []string {
	return []string{"--lake", lakeDir, "--run-id", "d1", "--now", "2026-11-21T01:00:00Z",
		"publish", "--layer", "dims", "--table", "customers", "--partition", day}
}

// TestStalePublishRetries pauses publish A after it read the silver commit point,
// lets publish B of another run complete, then resumes A: A's compare-and-swap
// fails, it re-reads and retries, and wins as the last to complete, with its
// quarantine realigned to the same run.
func TestStalePublishRetries(t *testing.T) {
	ctx := context.Background()
	template, _ := silverTemplate(t)
	l := copyLake(t, template)
	for _, run := range []string{"a", "b"} {
		stage(t, l, lake.Silver, "customers", silverPK, day, run, customersQuery(0, 7, run, day))
		stage(t, l, lake.Quarantine, "customers", silverPK, day, run, customersQuery(0, 1, run+"-q", day))
		passReport(t, l, run, spec.TaskSilverValidate, "customers", day)
	}
	args := func(run string) []string {
		return []string{"--lake", l.Root(), "--run-id", run, "publish", "--layer", "silver", "--table", "customers", "--partition", day}
	}
	a := startPaused(t, "silver:swap-commit-point", args("a")...)
	if _, stderr, code := runWorker(t, nil, args("b")...); code != 0 {
		a.kill(t)
		t.Fatalf("publish b: exit %d\n%s", code, stderr)
	}
	if v, err := read(ctx, l, lake.Silver, "customers", silverPK, day); err != nil || v.run != "b" {
		t.Fatalf("after b: %+v %v", v, err)
	}
	code, stderr := a.resume(t)
	if code != 0 {
		t.Fatalf("resumed publish a: exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "step silver:read-commit-point\n"); n != 2 {
		t.Errorf("publish a read the silver commit point %d times, want 2 (a stale read, then a retry)", n)
	}
	for _, layer := range []string{lake.Silver, lake.Quarantine} {
		if v, err := read(ctx, l, layer, "customers", silverPK, day); err != nil || v.run != "a" {
			t.Errorf("%s after both publishes: %+v, %v; want a (the last to complete)", layer, v, err)
		}
	}
}

func commitPoints(t *testing.T, l lake.Lake, layers ...string) []byte {
	t.Helper()
	var out []byte
	for _, layer := range layers {
		b, err := lake.ReadAll(context.Background(), l, path.Join(lake.PartitionDir(layer, "customers", silverPK, day), lake.ManifestFile))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func contains(ss []string, s string) bool { return indexOf(ss, s) >= 0 }

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}
