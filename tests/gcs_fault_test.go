package tests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake/faultproxy"
)

// faultFixture is a small pipeline whose bronze is written cleanly, then run
// through the fault-injecting proxy.
type faultFixture struct {
	name  string
	flags []string                                         // --specs and the like
	setup func(t *testing.T, env []string, flags []string) // writes bronze
	run   []string
}

func faultFixtures() []faultFixture {
	seeds, _ := filepath.Abs("../specs/jaffle_shop/seeds")
	const jd = "2018-04-09"
	return []faultFixture{
		{
			name:  "jaffle_shop",
			flags: []string{"--specs", "../specs/jaffle_shop"},
			setup: func(t *testing.T, env, flags []string) {
				for _, tbl := range []string{"customers", "orders", "payments"} {
					gcsMustRunEnv(t, env, 0, append(flags, "bronze", "import", "--table", tbl, "--partition", jd, filepath.Join(seeds, "raw_"+tbl+".csv"))...)
				}
			},
			run: []string{"run", "--partition", jd},
		},
		{
			name: "shop",
			setup: func(t *testing.T, env, flags []string) {
				gcsMustRunEnv(t, env, 0, append(flags, "generate", "--days", "1", "--start", day, "--scale", "0.001", "--fault-rate", "0.01", "--seed", "7")...)
			},
			run: []string{"run", "--partition", day},
		},
	}
}

// TestGCSRunUnderFaults: `worker run` on a GCS lake whose requests fail 10% of
// the time (429, 503, resets before and after the emulator acted, delays, a few
// stalls past --io-timeout) completes, 5 runs in a row, with the committed
// partitions and gold tables of a clean run.
func TestGCSRunUnderFaults(t *testing.T) {
	for _, fx := range faultFixtures() {
		t.Run(fx.name, func(t *testing.T) {
			emu := startGCS(t)
			proxy := faultproxy.Start(t, emu.endpoint, faultproxy.Config{})
			tmp := t.TempDir()
			lakeFlags := func(prefix string) []string {
				return append(slices.Clone(fx.flags), "--lake", emu.lakeURL(prefix), "--warehouse-path", filepath.Join(tmp, prefix+".duckdb"),
					"--work-dir", filepath.Join(tmp, "work-"+prefix), "--run-id", "r1", "--now", gcsNow, "--io-timeout", "2s")
			}
			clean := lakeFlags("clean")
			fx.setup(t, emu.env(), clean)
			gcsMustRunEnv(t, emu.env(), 0, append(clean, fx.run...)...)
			want := gcsLakeResult(t, emu, "clean", filepath.Join(tmp, "clean.duckdb"))
			if len(want.parts) == 0 || len(want.marts) == 0 {
				t.Fatal("the clean run committed nothing: the comparison is vacuous")
			}

			faulty := []string{"STORAGE_EMULATOR_HOST=" + proxy.Addr()}
			for i := range 5 {
				prefix := fmt.Sprintf("faulty%d", i)
				flags := lakeFlags(prefix)
				fx.setup(t, emu.env(), flags)
				proxy.Configure(faultproxy.Config{Seed: uint64(i + 1), Rate: 0.1, Delay: 20 * time.Millisecond, Stall: time.Minute, MaxStalls: 2})
				before := proxy.Counts()
				gcsMustRunEnv(t, faulty, 0, append(flags, fx.run...)...)
				after := proxy.Counts()
				faults := 0
				for f, n := range after {
					if f != faultproxy.None {
						faults += n - before[f]
					}
				}
				if faults == 0 {
					t.Fatalf("run %d: no fault injected: %v", i, after)
				}
				got := gcsLakeResult(t, emu, prefix, filepath.Join(tmp, prefix+".duckdb"))
				if diff := want.diff(got); diff != "" {
					t.Fatalf("run %d under %d faults differs from the clean run: %s", i, faults, diff)
				}
			}
			t.Logf("faults over 5 runs: %v", proxy.Counts())
		})
	}
}

// TestGCSRunOutage: when GCS answers 503 to everything, `worker run` gives up
// within its budget (--io-retries 2: 3 attempts per call) and exits 1 with the
// operation and the object in its message, and no commit point changes.
func TestGCSRunOutage(t *testing.T) {
	for _, fx := range faultFixtures() {
		t.Run(fx.name, func(t *testing.T) {
			emu := startGCS(t)
			proxy := faultproxy.Start(t, emu.endpoint, faultproxy.Config{})
			tmp := t.TempDir()
			flags := append(slices.Clone(fx.flags), "--lake", emu.lakeURL("lake"), "--warehouse-path", filepath.Join(tmp, "wh.duckdb"),
				"--work-dir", filepath.Join(tmp, "work"), "--now", gcsNow, "--io-retries", "2", "--io-timeout", "1s")
			fx.setup(t, emu.env(), flags)
			// A first run commits, so the outage has commit points to leave alone.
			gcsMustRunEnv(t, emu.env(), 0, append(flags, append([]string{"--run-id", "r1"}, fx.run...)...)...)
			before := emu.mustList(t, "lake/")
			points := emu.commitPoints(t, "lake")
			if len(points) == 0 {
				t.Fatal("no commit point before the outage")
			}

			proxy.Configure(faultproxy.Config{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Unavailable}})
			faulty := []string{"STORAGE_EMULATOR_HOST=" + proxy.Addr()}
			_, stderr := gcsMustRunEnv(t, faulty, 1, append(flags, append([]string{"--run-id", "r2"}, fx.run...)...)...)
			if !strings.Contains(stderr, "gave up after 3 attempts") || !strings.Contains(stderr, "gs://"+emu.bucket+"/lake/") || !strings.Contains(stderr, "503") {
				t.Errorf("stderr does not name the operation, the object and the cause:\n%s", gcsTail(stderr, 10))
			}
			t.Logf("outage: %s", gcsTail(stderr, 1))
			if proxy.Counts()[faultproxy.None] != 0 {
				t.Fatalf("a request got through the outage: %v", proxy.Counts())
			}
			after := emu.mustList(t, "lake/")
			if !slices.Equal(before, after) {
				t.Errorf("the outage changed the bucket:\nbefore %v\nafter  %v", before, after)
			}
			if got := emu.commitPoints(t, "lake"); !slices.Equal(got, points) {
				t.Errorf("commit points changed: %v, were %v", got, points)
			}
		})
	}
}

// gcsResult is what a run left: every commit point's manifest (row count,
// schema, files and their checksums) and the gold tables' checksums.
type gcsResult struct {
	parts map[string]string
	marts map[string]string
}

func gcsLakeResult(t *testing.T, emu *gcsEmu, prefix, warehouse string) gcsResult {
	t.Helper()
	r := gcsResult{parts: map[string]string{}, marts: map[string]string{}}
	for _, cp := range emu.commitPoints(t, prefix) {
		m := gcsParseManifest(t, cp, emu.mustRead(t, gcsObjectName(prefix, cp)))
		var files []string
		for _, f := range m.Files {
			files = append(files, fmt.Sprintf("%s %d %s", f.Path, f.Bytes, f.CRC32C))
		}
		r.parts[cp] = fmt.Sprintf("run %s rows %d schema %v files %v", m.RunID, m.RowCount, m.Schema, files)
	}
	db := openDuck(t)
	if _, err := db.Exec("ATTACH " + sqlStr(warehouse) + " AS wh (READ_ONLY)"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'wh' AND table_schema = 'gold' ORDER BY table_name")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, s)
	}
	rows.Close()
	for _, tb := range tables {
		n, sum := gcsTableChecksum(t, db, "wh.gold."+gcsQuoteIdent(tb))
		r.marts[tb] = fmt.Sprintf("%d rows %s", n, sum)
	}
	return r
}

// diff describes how got differs from r ("" when it does not).
func (r gcsResult) diff(got gcsResult) string {
	var out []string
	for k, v := range r.parts {
		if got.parts[k] != v {
			out = append(out, fmt.Sprintf("%s: %q, want %q", k, got.parts[k], v))
		}
	}
	for k := range got.parts {
		if _, ok := r.parts[k]; !ok {
			out = append(out, k+": committed, not in the clean run")
		}
	}
	for k, v := range r.marts {
		if got.marts[k] != v {
			out = append(out, fmt.Sprintf("%s: %s, want %s", k, got.marts[k], v))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}
