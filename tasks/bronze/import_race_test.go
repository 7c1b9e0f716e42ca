package bronze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/gcstest"
)

// raceRounds is how many times TestImportRace races two imports per backend.
const raceRounds = 10

// lakeBackends are the lakes the import's commit protocol is tested on: a local
// folder and the GCS emulator. Each call makes a fresh, empty lake.
func lakeBackends() map[string]func(t *testing.T) lake.Lake {
	return map[string]func(t *testing.T) lake.Lake{
		"local": func(t *testing.T) lake.Lake {
			l, err := lake.NewLocal(filepath.Join(t.TempDir(), "lake"))
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		"gcs": func(t *testing.T) lake.Lake {
			endpoint, bucket, _ := gcstest.Start(t)
			l, err := lake.NewGCS(context.Background(), bucket, "shop",
				option.WithEndpoint("http://"+endpoint+"/storage/v1/"), option.WithoutAuthentication())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l
		},
	}
}

// oneOrderCSV is one order, content that differs from ordersCSV's.
const oneOrderCSV = ordersHeader + "o1,c1,2026-11-20T01:00:00Z,placed,10.50,USD,2026-11-20T01:00:00Z\n"

// TestImportRace runs two imports of different content into one partition at the
// same time, raceRounds times per backend: every round leaves exactly one
// consistent partition (the manifest is one import's, its files exist with its
// sizes and checksums, nothing else is in the folder, the gate passes), the
// winner exits 0 and the loser 3 with a message naming the conflict. In even
// rounds both imports are held before their manifest write until both got there
// (both uploaded their files, both try to commit); odd rounds race freely.
func TestImportRace(t *testing.T) {
	for name, open := range lakeBackends() {
		t.Run(name, func(t *testing.T) {
			l := open(t)
			sp := shopSpec(t)
			contents := map[string]string{"a": ordersCSV, "b": oneOrderCSV}
			rows := map[string]int64{"a": 9, "b": 1}
			wins := map[string]int{}
			for round := 0; round < raceRounds; round++ {
				d := fmt.Sprintf("2026-12-%02d", round+1)
				gate := newBarrier(2)
				if round%2 == 1 {
					gate = nil
				}
				errs := map[string]error{}
				var mu sync.Mutex
				var wg sync.WaitGroup
				for _, who := range []string{"a", "b"} {
					gm := &member{}
					if gate != nil {
						gm = gate.member()
					}
					env := newEnvOn(t, sp, &heldLake{Lake: l, gate: gm})
					env.RunID = fmt.Sprintf("%s%02d", who, round)
					csv := writeFile(t, who+".csv", contents[who])
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer gm.leave()
						_, err := Import(context.Background(), env.Env, ImportOptions{Table: "orders", Partition: d, Files: []string{csv}})
						mu.Lock()
						errs[who] = err
						mu.Unlock()
					}()
				}
				wg.Wait()

				var winner, loser string
				for _, who := range []string{"a", "b"} {
					if errs[who] == nil {
						winner = who
					} else {
						loser = who
					}
				}
				if winner == "" || loser == "" {
					t.Fatalf("round %d: want one import to win and one to lose, got a: %v, b: %v", round, errs["a"], errs["b"])
				}
				wins[winner]++
				lerr := errs[loser]
				if fail.Code(lerr) != fail.BadData {
					t.Errorf("round %d: the losing import exited %d (%v), want 3", round, fail.Code(lerr), lerr)
				}
				mp := manifestPath("orders", d)
				mustContain(t, "loser's error", lerr.Error(), "bronze import orders partition "+d+": ", "bronze partitions are immutable and "+l.URI(mp)+" already lists other files", "import into another partition")
				if gate != nil {
					mustContain(t, "loser's error", lerr.Error(), "another import committed the partition first")
				}

				m := checkOnePartition(t, l, "orders", d)
				if m.RowCount != rows[winner] {
					t.Errorf("round %d: the manifest holds %d rows, the winner %s imported %d", round, m.RowCount, winner, rows[winner])
				}
				genv := newEnvOn(t, sp, l)
				genv.RunID = fmt.Sprintf("gate%02d", round)
				if _, _, err := Validate(context.Background(), genv.Env, ValidateOptions{Table: "orders", Partition: d}); err != nil {
					t.Errorf("round %d: the bronze gate fails the partition: %v", round, err)
				}
			}
			t.Logf("%d races: a won %d, b won %d", raceRounds, wins["a"], wins["b"])
		})
	}
}

// checkOnePartition asserts that a bronze partition is consistent: its manifest
// parses, every file it names is intact, and its folder holds nothing else.
func checkOnePartition(t *testing.T, l lake.Lake, table, d string) *lake.Manifest {
	t.Helper()
	ctx := context.Background()
	dir := partDir(table, d)
	m, _, err := lake.ReadManifest(ctx, l, path.Join(dir, lake.ManifestFile))
	if err != nil {
		t.Fatalf("partition %s: %v", d, err)
	}
	bad, err := lake.ChangedFiles(ctx, l, &lake.Partition{Dir: dir, Manifest: m})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("partition %s: the manifest does not match its files %v", d, bad)
	}
	want := []string{path.Join(dir, lake.ManifestFile)}
	for _, f := range m.Files {
		want = append(want, path.Join(dir, f.Path))
	}
	sort.Strings(want)
	if got := listPaths(t, l, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("partition %s holds %v, want the manifest and its files %v", d, got, want)
	}
	return m
}

func listPaths(t *testing.T, l lake.Lake, dir string) []string {
	t.Helper()
	objs, err := l.List(context.Background(), dir+"/")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, o := range objs {
		out = append(out, o.Path)
	}
	return out
}

// barrier holds its members until each one arrived or left (a member that fails
// before it arrives must not hold the others forever). A nil barrier holds nobody.
type barrier struct {
	mu    sync.Mutex
	n     int
	count int
	open  chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, open: make(chan struct{})} }

// member is one goroutine of a barrier.
type member struct {
	b    *barrier
	once sync.Once
}

func (b *barrier) member() *member { return &member{b: b} }

func (m *member) count() {
	m.once.Do(func() {
		b := m.b
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.count++; b.count == b.n {
			close(b.open)
		}
	})
}

// arrive waits until every member arrived or left.
func (m *member) arrive() {
	if m.b == nil {
		return
	}
	m.count()
	<-m.b.open
}

// leave counts a member that is done, whether or not it arrived.
func (m *member) leave() {
	if m.b != nil {
		m.count()
	}
}

// heldLake holds the first bronze manifest write at its barrier.
type heldLake struct {
	lake.Lake
	gate *member
	once sync.Once
}

func (h *heldLake) Write(ctx context.Context, p string, r io.Reader, pre lake.Precondition) (lake.ObjectInfo, error) {
	if strings.HasPrefix(p, "bronze/") && path.Base(p) == lake.ManifestFile {
		h.once.Do(h.gate.arrive)
	}
	return h.Lake.Write(ctx, p, r, pre)
}

// TestImportRaceWithSignal cancels an import (as SIGTERM does) at every step of
// its commit, on both backends, and in the ways a lake can report a write: not
// sent, landed but unheard (a lost response), landed after the import gave up,
// and a create-only write retried after a lost response. Each time, the
// partition is either complete and consistent or absent, with nothing left in
// its folder.
func TestImportRaceWithSignal(t *testing.T) {
	// Two input files: writes 1 and 2 are data files, write 3 the manifest.
	const manifestWrite = 3
	tests := []struct {
		name  string
		write int // which bronze write is hit
		mode  faultMode
		// complete: the partition must be there afterwards (else: nothing).
		complete bool
		// ok: the import must succeed (else: it must fail).
		ok bool
	}{
		{"signal before the first data file", 1, cancelBefore, false, false},
		{"signal after the first data file landed unheard", 1, cancelAfter, false, false},
		{"signal before the second data file", 2, cancelBefore, false, false},
		{"signal after the second data file landed unheard", 2, cancelAfter, false, false},
		{"signal before the manifest", manifestWrite, cancelBefore, false, false},
		{"signal while the manifest lands unheard", manifestWrite, cancelAfter, true, false},
		{"manifest lands after the import gave up", manifestWrite, landsLate, true, false},
		{"data file upload retried after a lost response", 1, retriedAfterLanding, true, true},
		{"manifest upload retried after a lost response", manifestWrite, retriedAfterLanding, true, true},
		{"manifest write fails", manifestWrite, failBefore, false, false},
	}
	for name, open := range lakeBackends() {
		t.Run(name, func(t *testing.T) {
			l := open(t)
			sp := shopSpec(t)
			for i, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					d := fmt.Sprintf("2026-12-%02d", i+1)
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					fl := &faultLake{Lake: l, hit: tc.write, mode: tc.mode, cancel: cancel}
					env := newEnvOn(t, sp, fl)
					_, err := Import(ctx, env.Env, ImportOptions{Table: "orders", Partition: d,
						Files: []string{writeFile(t, "a.csv", ordersCSV), writeFile(t, "b.csv", oneOrderCSV)}})
					if fl.writes < tc.write {
						t.Fatalf("the import made %d bronze writes, the test hits write %d", fl.writes, tc.write)
					}
					// The audit is written with the cancelled context and fails: a
					// cancelled import never exits 0, even when its partition landed.
					if tc.ok && err != nil {
						t.Errorf("import failed: %v", err)
					}
					if !tc.ok && err == nil {
						t.Errorf("import succeeded, want an error")
					}
					if tc.complete {
						if m := checkOnePartition(t, l, "orders", d); m.RowCount != 10 {
							t.Errorf("the manifest holds %d rows, want 10", m.RowCount)
						}
						genv := newEnvOn(t, sp, l)
						if _, _, err := Validate(context.Background(), genv.Env, ValidateOptions{Table: "orders", Partition: d}); err != nil {
							t.Errorf("the bronze gate fails the partition: %v", err)
						}
					} else if left := listPaths(t, l, partDir("orders", d)); len(left) > 0 {
						t.Errorf("a failed import left %v", left)
					}
					if !tc.complete && err != nil && fail.Code(err) != fail.Internal {
						t.Errorf("exit code %d (%v), want 1", fail.Code(err), err)
					}
				})
			}
		})
	}
}

type faultMode int

const (
	cancelBefore        faultMode = iota // cancel, then fail the write unsent
	cancelAfter                          // write, cancel, report the cancellation
	landsLate                            // cancel, report failure, write on the next delete
	retriedAfterLanding                  // write, then report the retry's precondition failure
	failBefore                           // fail the write unsent (no signal)
)

// faultLake hits the hit-th write under bronze/ with mode, and, as the GCS client
// does, fails every call made with a cancelled context.
type faultLake struct {
	lake.Lake
	hit    int
	mode   faultMode
	cancel context.CancelFunc

	mu      sync.Mutex
	writes  int
	pending func() // a write that lands late
}

var errLostResponse = errors.New("connection reset before the response")

func (f *faultLake) Write(ctx context.Context, p string, r io.Reader, pre lake.Precondition) (lake.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return lake.ObjectInfo{}, fmt.Errorf("write %s: %w", p, err)
	}
	if !strings.HasPrefix(p, "bronze/") {
		return f.Lake.Write(ctx, p, r, pre)
	}
	f.mu.Lock()
	f.writes++
	n := f.writes
	f.mu.Unlock()
	if n != f.hit {
		return f.Lake.Write(ctx, p, r, pre)
	}
	switch f.mode {
	case cancelBefore:
		f.cancel()
		return lake.ObjectInfo{}, fmt.Errorf("write %s: %w", p, context.Canceled)
	case cancelAfter:
		if _, err := f.Lake.Write(ctx, p, r, pre); err != nil {
			return lake.ObjectInfo{}, err
		}
		f.cancel()
		return lake.ObjectInfo{}, fmt.Errorf("write %s: %w", p, context.Canceled)
	case landsLate:
		b, err := io.ReadAll(r)
		if err != nil {
			return lake.ObjectInfo{}, err
		}
		f.mu.Lock()
		f.pending = func() {
			_, _ = lake.WriteBytes(context.Background(), f.Lake, p, b, pre)
		}
		f.mu.Unlock()
		f.cancel()
		return lake.ObjectInfo{}, fmt.Errorf("write %s: %w", p, context.Canceled)
	case retriedAfterLanding:
		if _, err := f.Lake.Write(ctx, p, r, pre); err != nil {
			return lake.ObjectInfo{}, err
		}
		return lake.ObjectInfo{}, fmt.Errorf("write %s: %w: %w", p, lake.ErrPrecondition, errLostResponse)
	default:
		return lake.ObjectInfo{}, fmt.Errorf("write %s: %w", p, errLostResponse)
	}
}

func (f *faultLake) Delete(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	f.mu.Lock()
	land := f.pending
	f.pending = nil
	f.mu.Unlock()
	if land != nil {
		land()
	}
	return f.Lake.Delete(ctx, p)
}

func (f *faultLake) Stat(ctx context.Context, p string) (lake.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return lake.ObjectInfo{}, fmt.Errorf("stat %s: %w", p, err)
	}
	return f.Lake.Stat(ctx, p)
}

func (f *faultLake) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	return f.Lake.Open(ctx, p)
}

func (f *faultLake) List(ctx context.Context, prefix string) ([]lake.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	return f.Lake.List(ctx, prefix)
}

// TestImportRefusesDamagedPartition: a re-import of the content a partition holds
// checks the partition's files, not only its manifest. A file deleted or
// truncated since is refused with exit 3 naming the file, and nothing changes:
// bronze is never rewritten in place (the operator removes the partition and
// imports again, which then works).
func TestImportRefusesDamagedPartition(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, env testEnv, p string)
		want   string
	}{
		{"file deleted", func(t *testing.T, env testEnv, p string) {
			if err := env.Lake.Delete(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		}, "-00000.parquet is missing"},
		{"file truncated", func(t *testing.T, env testEnv, p string) {
			ctx := context.Background()
			b, err := lake.ReadAll(ctx, env.Lake, p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := lake.WriteBytes(ctx, env.Lake, p, b[:len(b)/2], lake.Precondition{}); err != nil {
				t.Fatal(err)
			}
		}, "-00000.parquet has "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			env := newEnv(t, shopSpec(t))
			csv := writeFile(t, "orders.csv", ordersCSV)
			mustImport(t, env, "orders", day, csv)
			mp := manifestPath("orders", day)
			before, err := lake.ReadAll(ctx, env.Lake, mp)
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, env, importedPart(t, env, "orders", day, 0))
			left := listPaths(t, env.Lake, partDir("orders", day))

			_, err = Import(ctx, env.Env, ImportOptions{Table: "orders", Partition: day, Files: []string{csv}})
			if fail.Code(err) != fail.BadData {
				t.Fatalf("exit code %d (%v), want 3", fail.Code(err), err)
			}
			mustContain(t, "error", err.Error(), env.Lake.URI(mp)+" lists this content but its files are damaged: ", tc.want, "delete the partition's manifest and files, then import again")
			after, err := lake.ReadAll(ctx, env.Lake, mp)
			if err != nil || string(after) != string(before) {
				t.Errorf("the manifest changed (%v)", err)
			}
			if got := listPaths(t, env.Lake, partDir("orders", day)); strings.Join(got, " ") != strings.Join(left, " ") {
				t.Errorf("the refused import changed the folder: %v, was %v", got, left)
			}

			// The way out the message names.
			for _, p := range left {
				if err := env.Lake.Delete(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			mustImport(t, env, "orders", day, csv)
			checkOnePartition(t, env.Lake, "orders", day)
		})
	}
}
