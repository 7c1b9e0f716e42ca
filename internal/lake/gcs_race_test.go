package lake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/gcstest"
	"github.com/shoplake/lakehouse/internal/lake/laketest"
)

// The race tests commit two runs, A and B, of one partition at the same time.
// Both publishers are held at "swap-commit-point" until both have read the commit
// point, so both try the same compare-and-swap and one must lose, re-read and
// retry: the loser's run ends committed, on top of the winner's.
const (
	raceLayer = "silver"
	raceTable = "orders"
	raceKey   = "ingestion_dt"
	raceValue = "2026-11-20"
)

// raceOutcome is what one publisher reports.
type raceOutcome struct {
	RunID         string `json:"run_id"`
	PreviousRunID string `json:"previous_run_id"`
	Already       bool   `json:"already_committed"`
	Reads         int    `json:"reads"` // times it read the commit point
	Err           string `json:"error,omitempty"`
}

// publish commits runID; arrive is called the first time the publisher is about
// to swap the commit point and returns when it may go on.
func publish(ctx context.Context, l lake.Lake, runID string, arrive func()) raceOutcome {
	out := raceOutcome{RunID: runID}
	var once sync.Once
	res, err := lake.Commit(ctx, l, lake.CommitRequest{
		Layer: raceLayer, Table: raceTable, Key: raceKey, Value: raceValue, RunID: runID, Now: time.Now(),
		Step: func(name string) {
			switch name {
			case "read-commit-point":
				out.Reads++
			case "swap-commit-point":
				once.Do(arrive)
			}
		},
	})
	if err != nil {
		out.Err = err.Error()
	}
	out.PreviousRunID, out.Already = res.PreviousRunID, res.AlreadyCommitted
	return out
}

func stageRace(t *testing.T, l lake.Lake, runID string) {
	laketest.Stage(t, l, raceLayer, raceTable, raceKey, raceValue, runID, map[string]string{
		"part-0.parquet": strings.Repeat(runID+"\n", 3),
		"part-1.parquet": runID + "\n",
	})
}

// runGenerations maps every object under the partition's run folders to its generation.
func runGenerations(t *testing.T, l lake.Lake) map[string]int64 {
	t.Helper()
	objs, err := l.List(context.Background(), lake.PartitionDir(raceLayer, raceTable, raceKey, raceValue))
	if err != nil {
		t.Fatal(err)
	}
	gens := map[string]int64{}
	for _, o := range objs {
		if strings.Contains(o.Path, "/run=") {
			gens[o.Path] = o.Generation
		}
	}
	return gens
}

// checkRace asserts the outcome of one race of A and B (after base, if any).
func checkRace(t *testing.T, l lake.Lake, base string, a, b raceOutcome) {
	t.Helper()
	ctx := context.Background()
	for _, o := range []raceOutcome{a, b} {
		if o.Err != "" || o.Already {
			t.Fatalf("publisher %s: %+v", o.RunID, o)
		}
	}
	// One linear history: base -> winner -> loser, the loser having read twice.
	winner, loser := a, b
	if a.Reads > 1 {
		winner, loser = b, a
	}
	if winner.Reads != 1 || loser.Reads != 2 || winner.PreviousRunID != base || loser.PreviousRunID != winner.RunID {
		t.Fatalf("not one winner and one retrying loser on top of %q: %+v %+v", base, a, b)
	}
	p, err := lake.ReadCommitted(ctx, l, raceLayer, raceTable, raceKey, raceValue)
	if err != nil {
		t.Fatal(err)
	}
	if p.Manifest.RunID != loser.RunID {
		t.Fatalf("commit point names %s, want the last publish %s", p.Manifest.RunID, loser.RunID)
	}
	var rows int64
	for i, f := range p.FilePaths() {
		if !strings.Contains(f, "/run="+loser.RunID+"/") {
			t.Errorf("committed file %s is not of run %s", f, loser.RunID)
		}
		b, err := lake.ReadAll(ctx, l, f)
		if err != nil {
			t.Fatalf("committed file missing: %v", err)
		}
		if lake.CRC32C(b) != p.Manifest.Files[i].CRC32C {
			t.Errorf("committed file %s does not match its manifest", f)
		}
		rows += int64(strings.Count(string(b), loser.RunID+"\n"))
	}
	if rows != p.Manifest.RowCount || rows != 4 {
		t.Errorf("committed rows %d, manifest %d, want 4", rows, p.Manifest.RowCount)
	}
}

// TestGCSRacingCommits: two goroutines, 20 races, half on an empty partition
// (a create-only race) and half on a committed one (a generation race).
func TestGCSRacingCommits(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	for i := 0; i < 20; i++ {
		l := newGCSLake(t, endpoint, bucket)
		base := ""
		if i%2 == 1 {
			base = "base"
			stageRace(t, l, base)
			if _, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: raceLayer, Table: raceTable, Key: raceKey, Value: raceValue, RunID: base, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		before := runGenerations(t, l)
		stageRace(t, l, "A")
		stageRace(t, l, "B")
		var barrier sync.WaitGroup
		barrier.Add(2)
		arrive := func() { barrier.Done(); barrier.Wait() }
		var wg sync.WaitGroup
		var a, b raceOutcome
		wg.Add(2)
		go func() { defer wg.Done(); a = publish(ctx, l, "A", arrive) }()
		go func() { defer wg.Done(); b = publish(ctx, l, "B", arrive) }()
		wg.Wait()
		checkRace(t, l, base, a, b)
		after := runGenerations(t, l)
		for p, g := range before {
			if after[p] != g {
				t.Errorf("race %d: committed file %s rewritten (generation %d -> %d)", i, p, g, after[p])
			}
		}
		// Publishing both again (an Airflow retry) rewrites nothing.
		for _, id := range []string{"B", "A"} {
			if _, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: raceLayer, Table: raceTable, Key: raceKey, Value: raceValue, RunID: id, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		again := runGenerations(t, l)
		if len(after) != len(before)+6 || len(again) != len(after) {
			t.Errorf("race %d: %d run objects before, %d after, %d after republishing", i, len(before), len(after), len(again))
		}
		for p, g := range after {
			if again[p] != g {
				t.Errorf("race %d: republishing rewrote %s (generation %d -> %d)", i, p, g, again[p])
			}
		}
	}
}

// TestGCSRacingCommitProcesses: the same race between two processes, each
// opening the lake from its URL with only STORAGE_EMULATOR_HOST set, as two
// workers would.
func TestGCSRacingCommitProcesses(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	for i := 0; i < 20; i++ {
		prefix := "procs-" + randomName()
		url := "gs://" + bucket + "/" + prefix
		l := newGCSLakeAt(t, endpoint, bucket, prefix)
		base := ""
		if i%2 == 1 {
			base = "base"
			stageRace(t, l, base)
			if _, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: raceLayer, Table: raceTable, Key: raceKey, Value: raceValue, RunID: base, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		before := runGenerations(t, l)
		stageRace(t, l, "A")
		stageRace(t, l, "B")
		barrier := t.TempDir()
		var wg sync.WaitGroup
		outs := make([]raceOutcome, 2)
		for j, id := range []string{"A", "B"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := runHelper(t, "commit", endpoint, url, []string{"LAKE_HELPER_RUN=" + id, "LAKE_HELPER_BARRIER=" + barrier})
				if err != nil {
					outs[j] = raceOutcome{RunID: id, Err: fmt.Sprintf("%v: %s", err, out)}
					return
				}
				if err := json.Unmarshal(lastLine(out), &outs[j]); err != nil {
					outs[j] = raceOutcome{RunID: id, Err: fmt.Sprintf("%v: %s", err, out)}
				}
			}()
		}
		wg.Wait()
		checkRace(t, l, base, outs[0], outs[1])
		after := runGenerations(t, l)
		for p, g := range before {
			if after[p] != g {
				t.Errorf("race %d: committed file %s rewritten (generation %d -> %d)", i, p, g, after[p])
			}
		}
	}
}

func newGCSLakeAt(t *testing.T, endpoint, bucket, prefix string) lake.Lake {
	t.Helper()
	t.Setenv("STORAGE_EMULATOR_HOST", endpoint)
	l, err := lake.Open(context.Background(), "gs://"+bucket+"/"+prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func lastLine(b []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(lines[len(lines)-1])
}

// runHelper runs this test binary as a child process in helper mode (see
// TestMain) with the emulator named only by STORAGE_EMULATOR_HOST.
func runHelper(t *testing.T, mode, endpoint, url string, env []string) ([]byte, error) {
	t.Helper()
	// A hung child is killed before go test -timeout, not after a guessed time.
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(ctx, d.Add(-10*time.Second))
	}
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"LAKE_HELPER="+mode,
		"LAKE_HELPER_URL="+url,
		"STORAGE_EMULATOR_HOST="+endpoint,
	)
	cmd.Env = append(cmd.Env, env...)
	return cmd.CombinedOutput()
}

func TestMain(m *testing.M) {
	if mode := os.Getenv("LAKE_HELPER"); mode != "" {
		if err := helperMain(mode); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperMain is the child process: it knows the lake only by URL and
// STORAGE_EMULATOR_HOST, as the worker binary does.
func helperMain(mode string) error {
	ctx := context.Background()
	var l lake.Lake
	var err error
	if mode == "leak" {
		// The key in GOOGLE_APPLICATION_CREDENTIALS is used against the emulator.
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(os.Getenv("LAKE_HELPER_URL"), "gs://"), "/")
		l, err = lake.NewGCS(ctx, bucket, prefix, option.WithEndpoint(os.Getenv("LAKE_HELPER_ENDPOINT")))
	} else {
		l, err = lake.Open(ctx, os.Getenv("LAKE_HELPER_URL"))
	}
	if err != nil {
		return err
	}
	defer l.Close()
	switch mode {
	case "leak":
		for _, s := range exercise(l) {
			fmt.Println(s)
		}
		return nil
	case "roundtrip":
		in, err := lake.ReadAll(ctx, l, "in.txt")
		if err != nil {
			return err
		}
		_, err = lake.WriteBytes(ctx, l, "out.txt", []byte("child read "+string(in)), lake.Precondition{DoesNotExist: true})
		return err
	case "commit":
		run, dir := os.Getenv("LAKE_HELPER_RUN"), os.Getenv("LAKE_HELPER_BARRIER")
		arrive := func() {
			// A file barrier: wait until both publishers have read the commit point
			// (however long the other takes to start; the parent kills a hung child).
			_ = os.WriteFile(filepath.Join(dir, run), nil, 0o644)
			for {
				if ents, _ := os.ReadDir(dir); len(ents) >= 2 {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		out := publish(ctx, l, run, arrive)
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
		return nil
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}
