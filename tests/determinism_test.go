package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
)

// TestGenerateIsDeterministic: the same seed and options, in two lakes, give
// byte-identical bronze files, manifests and ledgers.
func TestGenerateIsDeterministic(t *testing.T) {
	gen := []string{"generate", "--days", "2", "--start", day, "--scale", "0.0005", "--fault-rate", "0.05", "--seed", "11"}
	lakes := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for _, l := range lakes {
		mustRun(t, 0, append([]string{"--lake", l}, gen...)...)
	}
	for _, sub := range []string{"bronze", "_generated"} {
		a := treeFiles(t, filepath.Join(lakes[0], sub))
		b := treeFiles(t, filepath.Join(lakes[1], sub))
		if len(a) == 0 {
			t.Fatalf("generate wrote nothing under %s/", sub)
		}
		for p, ab := range a {
			bb, ok := b[p]
			switch {
			case !ok:
				t.Errorf("%s/%s: only in the first lake", sub, p)
			case !bytes.Equal(ab, bb):
				t.Errorf("%s/%s: differs between two runs with the same seed (%d vs %d bytes)", sub, p, len(ab), len(bb))
			}
		}
		for p := range b {
			if _, ok := a[p]; !ok {
				t.Errorf("%s/%s: only in the second lake", sub, p)
			}
		}
	}
	// The ledger lists the orders of day 1 that changed status on day 2, identically.
	found := false
	for _, line := range bytes.Split(readLedgerFile(t, lakes[0]), []byte("\n")) {
		found = found || bytes.Contains(line, []byte(`"table":"orders","partition":"`+day2+`","key":"O`+strings.ReplaceAll(day, "-", "")+`-`)) &&
			bytes.Contains(line, []byte(`"outcome":"later_version"`))
	}
	if !found {
		t.Errorf("the ledger lists no later version on %s of an order of %s", day2, day)
	}
	// Each day of each table has its data files and a manifest.
	a := treeFiles(t, filepath.Join(lakes[0], "bronze"))
	var manifests int
	for p := range a {
		if strings.HasSuffix(p, "/"+lake.ManifestFile) {
			manifests++
		}
	}
	if manifests != 8*2 {
		t.Errorf("%d bronze manifests, want 8 tables x 2 days", manifests)
	}

	// A different seed gives different data: the test above is not vacuous.
	other := filepath.Join(t.TempDir(), "c")
	seeded := slices.Clone(gen)
	seeded[len(seeded)-1] = "12"
	mustRun(t, 0, append([]string{"--lake", other}, seeded...)...)
	c := treeFiles(t, filepath.Join(other, "bronze"))
	p := "orders/ingest_dt=" + day + "/" + lake.ManifestFile
	if bytes.Equal(a[p], c[p]) {
		t.Errorf("bronze/%s is the same for seeds 11 and 12", p)
	}
}

// TestRebuildIsIdempotent: building a partition twice (two runs, two run ids)
// gives the same silver and quarantine content, and readers see exactly one
// version: the commit points list only files of the second run.
func TestRebuildIsIdempotent(t *testing.T) {
	specDir := looseShopSpec(t)
	lakeDir := filepath.Join(t.TempDir(), "lake")
	mustRun(t, 0, "--specs", specDir, "--lake", lakeDir, "generate",
		"--days", "1", "--start", day, "--scale", "0.0005", "--fault-rate", "0.05", "--seed", "3")
	db := openDuck(t)
	env := testEnv(t, specDir, lakeDir)

	type content struct{ silver, quarantine []string }
	dump := func() map[string]content {
		out := map[string]content{}
		for _, tb := range env.Spec.BaseSilver.Tables {
			out[tb.Name] = content{
				silver:     committedRows(t, db, lakeDir, lake.Silver, tb.Name, tb.Key(), day),
				quarantine: committedRows(t, db, lakeDir, lake.Quarantine, tb.Name, tb.Key(), day, "_run_id"),
			}
		}
		return out
	}

	mustRun(t, 0, "--specs", specDir, "--lake", lakeDir, "--run-id", "first", "run", "--partition", day, "--to", "silver")
	first := dump()
	mustRun(t, 0, "--specs", specDir, "--lake", lakeDir, "--run-id", "second", "run", "--partition", day, "--to", "silver")
	second := dump()

	var quarantined int
	for _, tb := range env.Spec.BaseSilver.Tables {
		f, s := first[tb.Name], second[tb.Name]
		if len(f.silver) == 0 {
			t.Errorf("silver %s %s is empty", tb.Name, day)
		}
		quarantined += len(f.quarantine)
		if !slices.Equal(f.silver, s.silver) {
			t.Errorf("silver %s %s differs between the two builds: %s", tb.Name, day, firstDiff(f.silver, s.silver))
		}
		if !slices.Equal(f.quarantine, s.quarantine) {
			t.Errorf("quarantine %s %s differs between the two builds: %s", tb.Name, day, firstDiff(f.quarantine, s.quarantine))
		}
		for _, layer := range []string{lake.Silver, lake.Quarantine} {
			mp := filepath.Join(lakeDir, lake.PartitionDir(layer, tb.Name, tb.Key(), day), lake.ManifestFile)
			m := readManifest(t, mp)
			if m.RunID != "second" {
				t.Errorf("%s/%s %s: commit point names run %q, want second", layer, tb.Name, day, m.RunID)
			}
			if len(m.Files) == 0 {
				t.Errorf("%s/%s %s: commit point lists no files", layer, tb.Name, day)
			}
			for _, f := range m.Files {
				if !strings.HasPrefix(f.Path, "run=second/") {
					t.Errorf("%s/%s %s: commit point lists %s, outside run=second/", layer, tb.Name, day, f.Path)
				}
			}
		}
	}
	if quarantined == 0 {
		t.Errorf("no row quarantined at fault rate 0.05: the quarantine comparison is vacuous")
	}
}

// day2 is the second generated day.
const day2 = "2026-11-21"

// readLedgerFile reads the ledger a generate run wrote into the lake at root.
func readLedgerFile(t *testing.T, root string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "_generated", "ledger.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// firstDiff describes the first difference of two sorted row dumps.
func firstDiff(a, b []string) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d rows and %d rows", len(a), len(b))
	}
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return "first: " + a[i] + " second: " + b[i]
		}
	}
	return "none"
}
