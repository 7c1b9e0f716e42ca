package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
)

// gcsRaceRounds is how many times TestGCSRacingPublishers races two publishers.
const gcsRaceRounds = 20

// TestGCSRacingPublishers: two worker processes publish the same silver partition
// (orders, with its quarantine) at the same time against the emulator, 20 times in
// a row with fresh run ids. Each publisher exits 0 (the loser re-reads the commit
// point and retries) or fails with one clear line; afterwards both commit points
// name the same run, one of the two, and list only files that exist; no object
// under a run=<id>/ folder is ever written twice; and a reader polling the commit
// points during the race never sees a mix of runs or a missing file.
func TestGCSRacingPublishers(t *testing.T) {
	emu := startGCS(t)
	tmp := t.TempDir()
	const prefix = "shop"
	flags := []string{"--lake", emu.lakeURL(prefix), "--work-dir", filepath.Join(tmp, "work")}
	env := emu.env()
	gcsMustRunEnv(t, env, 0, append(flags, "generate", "--days", "1", "--start", day, "--scale", "0.0005", "--fault-rate", "0.01", "--seed", "5")...)
	gcsMustRunEnv(t, env, 0, append(flags, "--run-id", "base", "run", "--partition", day, "--to", "silver")...)

	part := map[string]string{} // layer -> partition folder (object name)
	for _, layer := range []string{lake.Silver, lake.Quarantine} {
		part[layer] = gcsObjectName(prefix, layer+"/orders/ingestion_dt="+day)
	}
	gens := gcsNewGenerations()
	gens.observeListing(t, emu, part)

	wins := map[string]int{}
	var failures, realigned int
	var reads atomic.Int64
	start := time.Now()
	for round := 0; round < gcsRaceRounds; round++ {
		a, b := fmt.Sprintf("a%02d", round), fmt.Sprintf("b%02d", round)
		// Stage and gate both runs, the two runs' processes side by side.
		for _, step := range [][]string{
			{"silver", "build", "--table", "orders", "--partition", day},
			{"silver", "validate", "--table", "orders", "--partition", day},
		} {
			gcsParallel(t, env,
				append(append(append([]string{}, flags...), "--run-id", a), step...),
				append(append(append([]string{}, flags...), "--run-id", b), step...))
		}

		// The race, watched by a reader.
		ctx, stop := context.WithCancel(context.Background())
		readerErr := make(chan error, 1)
		go func() { readerErr <- gcsPollCommitPoints(ctx, emu, part, gens, &reads) }()
		pubs := make(map[string]*gcsPublisher, 2)
		for _, run := range []string{a, b} {
			pubs[run] = gcsStartPublisher(t, env, append(append([]string{}, flags...), "--run-id", run,
				"publish", "--layer", "silver", "--table", "orders", "--partition", day))
		}
		for _, run := range []string{a, b} {
			p := pubs[run]
			p.wait(t)
			if p.code != 0 {
				failures++
				line, err := gcsOneFailureLine(p.stderr.String())
				if err != nil {
					t.Errorf("round %d: publish of run %s exited %d without one clear failure line: %v\nstderr:\n%s", round, run, p.code, err, gcsTail(p.stderr.String(), 20))
				} else {
					t.Logf("round %d: publish of run %s exited %d: %s", round, run, p.code, line)
				}
			}
			if strings.Contains(p.stderr.String(), "concurrent publish") {
				realigned++
			}
		}
		stop()
		if err := <-readerErr; err != nil {
			t.Fatalf("round %d: reader during the race: %v", round, err)
		}

		// After the race: one of the two runs is committed, in both layers.
		var winner string
		for _, layer := range []string{lake.Silver, lake.Quarantine} {
			v, err := gcsReadCommitPoint(context.Background(), emu, part[layer], gens)
			if err != nil {
				t.Fatalf("round %d: %s after the race: %v", round, layer, err)
			}
			if v.run != a && v.run != b {
				t.Fatalf("round %d: %s commit point names run %q, want %s or %s", round, layer, v.run, a, b)
			}
			if winner == "" {
				winner = v.run
			} else if v.run != winner {
				t.Errorf("round %d: once both publishes finished, silver names run %s and quarantine run %s\npublish %s logged:\n%s\npublish %s logged:\n%s",
					round, winner, v.run, a, gcsLogSummary(pubs[a].stderr.String()), b, gcsLogSummary(pubs[b].stderr.String()))
			}
			var ptr lake.Pointer
			pp := gcsObjectName(prefix, layer+"/orders/"+lake.LatestFile)
			if err := json.Unmarshal(emu.mustRead(t, pp), &ptr); err != nil {
				t.Fatalf("parse %s: %v", pp, err)
			}
			if ptr.RunID != v.run {
				t.Errorf("round %d: %s names run %q, the commit point run %q", round, pp, ptr.RunID, v.run)
			}
		}
		if pubs[winner].code != 0 {
			t.Errorf("round %d: run %s is committed, yet its publish exited %d", round, winner, pubs[winner].code)
		}
		wins[strings.TrimRight(winner, "0123456789")]++
		// Nothing under a run folder, of this round or any before, was rewritten.
		gens.observeListing(t, emu, part)
	}
	elapsed := time.Since(start)
	t.Logf("%d races in %s: run a won %d, run b won %d; %d publishes failed; %d publishes realigned the quarantine; %d objects under run folders, each written once; %d consistent reads during the races",
		gcsRaceRounds, elapsed.Round(time.Millisecond), wins["a"], wins["b"], failures, realigned, gens.len(), reads.Load())
	if reads.Load() == 0 {
		t.Errorf("the reader never read a commit point during the races")
	}
}

// gcsParallel runs two worker commands at once; both must exit 0.
func gcsParallel(t *testing.T, env []string, args1, args2 []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]string, 2)
	for i, args := range [][]string{args1, args2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd, out, errb := gcsWorkerCmd(env, args...)
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Sprintf("worker %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, gcsTail(errb.String(), 20))
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Fatal(e)
		}
	}
}

// gcsPublisher is a started worker process.
type gcsPublisher struct {
	cmd    *exec.Cmd
	stderr interface{ String() string }
	code   int
}

func gcsStartPublisher(t *testing.T, env []string, args []string) *gcsPublisher {
	t.Helper()
	cmd, _, errb := gcsWorkerCmd(env, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker %s: %v", strings.Join(args, " "), err)
	}
	return &gcsPublisher{cmd: cmd, stderr: errb}
}

func (p *gcsPublisher) wait(t *testing.T) { t.Helper(); p.code = gcsExitCode(t, p.cmd.Wait()) }

// gcsOneFailureLine returns the one line of a failed command's stderr that is not a
// JSON log line: the failure, which names the table, the partition and the cause.
func gcsOneFailureLine(stderr string) (string, error) {
	var plain []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.TrimSpace(l) == "" || json.Valid([]byte(l)) {
			continue
		}
		plain = append(plain, l)
	}
	if len(plain) != 1 {
		return "", fmt.Errorf("%d lines besides the JSON logs, want 1", len(plain))
	}
	l := plain[0]
	if !strings.HasPrefix(l, "worker: ") || !strings.Contains(l, "orders") || !strings.Contains(l, day) {
		return "", fmt.Errorf("failure line %q does not name the table and partition", l)
	}
	return l, nil
}

// gcsLogSummary condenses JSON log lines to time, message and the fields that
// tell a publish's steps apart.
func gcsLogSummary(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) != nil {
			if strings.TrimSpace(l) != "" {
				out = append(out, "  "+l)
			}
			continue
		}
		line := fmt.Sprintf("  %v %v", rec["time"], rec["message"])
		for _, k := range []string{"layer", "manifest", "previous_run"} {
			if v, ok := rec[k]; ok {
				line += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// gcsGenerations remembers the generation of every object under a run folder: an
// object of an immutable run folder must never get a second one.
type gcsGenerations struct {
	mu   sync.Mutex
	seen map[string]int64
}

func gcsNewGenerations() *gcsGenerations { return &gcsGenerations{seen: map[string]int64{}} }

func (g *gcsGenerations) len() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.seen) }

// observe records name's generation, or says that it changed.
func (g *gcsGenerations) observe(name string, gen int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.seen[name]; ok && old != gen {
		return fmt.Errorf("%s was overwritten: generation %d, then %d", name, old, gen)
	}
	g.seen[name] = gen
	return nil
}

// observeListing lists the run folders of the partitions and records every
// object's generation; an object seen before must keep its generation and must
// still exist (nothing here runs gc).
func (g *gcsGenerations) observeListing(t *testing.T, emu *gcsEmu, part map[string]string) {
	t.Helper()
	listed := map[string]bool{}
	for _, dir := range part {
		for _, o := range emu.mustList(t, dir+"/run=") {
			listed[o.name] = true
			if err := g.observe(o.name, o.generation); err != nil {
				t.Error(err)
			}
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for name := range g.seen {
		if !listed[name] {
			t.Errorf("%s disappeared", name)
		}
	}
}

// gcsCommittedView is what a reader found through a commit point.
type gcsCommittedView struct {
	run  string
	rows int64
}

// gcsReadCommitPoint resolves a partition the way readers do: the commit point, then
// every file it lists, each checked against the manifest's size and CRC32C and
// required to sit in the committed run's folder.
func gcsReadCommitPoint(ctx context.Context, emu *gcsEmu, partDir string, gens *gcsGenerations) (gcsCommittedView, error) {
	name := partDir + "/" + lake.ManifestFile
	b, _, err := emu.read(ctx, name)
	if err != nil {
		return gcsCommittedView{}, fmt.Errorf("read %s: %w", name, err)
	}
	var m lake.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return gcsCommittedView{}, fmt.Errorf("parse %s: %w (%q)", name, err, b)
	}
	if m.RunID == "" {
		return gcsCommittedView{}, fmt.Errorf("%s names no run", name)
	}
	var rows int64
	for _, f := range m.Files {
		if r := gcsRunFolder(f.Path); r != m.RunID {
			return gcsCommittedView{}, fmt.Errorf("%s names run %s and lists %s: a mix of runs", name, m.RunID, f.Path)
		}
		obj := path.Join(partDir, f.Path)
		data, gen, err := emu.read(ctx, obj)
		if err != nil {
			return gcsCommittedView{}, fmt.Errorf("%s (run %s) lists %s, which cannot be read: %w", name, m.RunID, f.Path, err)
		}
		if got := lake.CRC32C(data); got != f.CRC32C || int64(len(data)) != f.Bytes {
			return gcsCommittedView{}, fmt.Errorf("%s lists %s with %d bytes crc32c %s; the object has %d bytes crc32c %s", name, f.Path, f.Bytes, f.CRC32C, len(data), got)
		}
		if err := gens.observe(obj, gen); err != nil {
			return gcsCommittedView{}, err
		}
		rows += f.Rows
	}
	if rows != m.RowCount {
		return gcsCommittedView{}, fmt.Errorf("%s: row_count %d, its files %d rows", name, m.RowCount, rows)
	}
	return gcsCommittedView{run: m.RunID, rows: rows}, nil
}

// gcsPollCommitPoints reads both commit points and lists the run folders in a loop
// until ctx ends; the first inconsistency ends it with an error.
func gcsPollCommitPoints(ctx context.Context, emu *gcsEmu, part map[string]string, gens *gcsGenerations, reads *atomic.Int64) error {
	for ctx.Err() == nil {
		for _, dir := range part {
			if _, err := gcsReadCommitPoint(ctx, emu, dir, gens); err != nil {
				if ctx.Err() != nil && errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
			reads.Add(1)
			objs, err := emu.list(ctx, dir+"/run=")
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			for _, o := range objs {
				if err := gens.observe(o.name, o.generation); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
