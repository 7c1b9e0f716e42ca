package tests

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
)

// TestGCSLakeMatchesLocalLake runs the same two days, with the same seed, run id
// and clock, on a GCS lake (the emulator) and on a local lake, and compares every
// committed partition of silver, quarantine, dims and enriched (the manifests'
// row counts and schemas, the sorted rows, the file checksums) and every gold
// table of the two DuckDB warehouses.
func TestGCSLakeMatchesLocalLake(t *testing.T) {
	emu := startGCS(t)
	tmp := t.TempDir()
	const prefix = "shop"
	gen := []string{"generate", "--days", "2", "--start", "2026-11-20", "--scale", "0.001", "--fault-rate", "0.01", "--seed", "7"}
	run := []string{"run", "--start", "2026-11-20", "--end", "2026-11-21"}

	gcsFlags := []string{"--lake", emu.lakeURL(prefix), "--warehouse-path", filepath.Join(tmp, "wh.duckdb"),
		"--work-dir", filepath.Join(tmp, "work-gcs"), "--run-id", "r1", "--now", gcsNow}
	localLake := filepath.Join(tmp, "lake")
	localFlags := []string{"--lake", localLake, "--work-dir", filepath.Join(tmp, "work-local"), "--run-id", "r1", "--now", gcsNow}

	start := time.Now()
	gcsMustRunEnv(t, emu.env(), 0, append(gcsFlags, gen...)...)
	gcsOut, _ := gcsMustRunEnv(t, emu.env(), 0, append(gcsFlags, run...)...)
	t.Logf("GCS lake: generate + run in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	gcsMustRunEnv(t, nil, 0, append(localFlags, gen...)...)
	localOut, _ := gcsMustRunEnv(t, nil, 0, append(localFlags, run...)...)
	t.Logf("local lake: generate + run in %s", time.Since(start).Round(time.Millisecond))
	if a, b := gcsWithoutDurations(gcsOut), gcsWithoutDurations(localOut); a != b {
		t.Errorf("worker run summaries differ (durations aside)\nGCS:\n%s\nlocal:\n%s", gcsOut, localOut)
	}

	gcsParts := emu.commitPoints(t, prefix)
	localParts := gcsLocalCommitPoints(t, localLake)
	if !slices.Equal(gcsParts, localParts) {
		t.Fatalf("committed partitions differ\nGCS:   %v\nlocal: %v", gcsParts, localParts)
	}
	layers := map[string]int{}
	for _, p := range gcsParts {
		layers[strings.SplitN(p, "/", 2)[0]]++
	}
	for _, l := range []string{lake.Silver, lake.Quarantine, "dims", "enriched"} {
		if layers[l] == 0 {
			t.Errorf("no committed partition of %s: the comparison is vacuous for that layer", l)
		}
	}
	t.Logf("comparing %d committed partitions: %v", len(gcsParts), layers)

	db := openDuck(t)
	dl := filepath.Join(tmp, "download")
	var identical, files int
	for _, cp := range gcsParts {
		gm := gcsParseManifest(t, "gs://"+emu.bucket+"/"+prefix+"/"+cp, emu.mustRead(t, gcsObjectName(prefix, cp)))
		localPath := filepath.Join(localLake, filepath.FromSlash(cp))
		lb, err := os.ReadFile(localPath)
		if err != nil {
			t.Fatal(err)
		}
		lm := gcsParseManifest(t, localPath, lb)
		if gm.RowCount != lm.RowCount {
			t.Errorf("%s: row_count %d on GCS, %d locally", cp, gm.RowCount, lm.RowCount)
		}
		if !slices.Equal(gm.Schema, lm.Schema) {
			t.Errorf("%s: schema differs\nGCS:   %v\nlocal: %v", cp, gm.Schema, lm.Schema)
		}
		if gm.RunID != "r1" || lm.RunID != "r1" {
			t.Errorf("%s: commit points name runs %q (GCS) and %q (local), want r1", cp, gm.RunID, lm.RunID)
		}
		if gm.SpecSHA256 != lm.SpecSHA256 {
			t.Errorf("%s: spec_sha256 %s on GCS, %s locally", cp, gm.SpecSHA256, lm.SpecSHA256)
		}
		partDir := path.Dir(cp)
		var gfiles, lfiles []string
		for i, f := range gm.Files {
			b := emu.mustRead(t, gcsObjectName(prefix, path.Join(partDir, f.Path)))
			if got := lake.CRC32C(b); got != f.CRC32C || int64(len(b)) != f.Bytes {
				t.Errorf("%s: %s is %d bytes crc32c %s, the manifest says %d bytes crc32c %s", cp, f.Path, len(b), got, f.Bytes, f.CRC32C)
			}
			dst := filepath.Join(dl, filepath.FromSlash(partDir), filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
			gfiles = append(gfiles, dst)
			files++
			if i < len(lm.Files) && lm.Files[i].Path == f.Path && lm.Files[i].CRC32C == f.CRC32C && lm.Files[i].Bytes == f.Bytes {
				lf, err := os.ReadFile(filepath.Join(filepath.Dir(localPath), filepath.FromSlash(f.Path)))
				if err != nil {
					t.Fatal(err)
				}
				if lake.CRC32C(lf) == lake.CRC32C(b) && bytes.Equal(lf, b) {
					identical++
				}
			}
		}
		if len(gm.Files) != len(lm.Files) {
			t.Errorf("%s: %d files on GCS, %d locally", cp, len(gm.Files), len(lm.Files))
		}
		for _, f := range lm.Files {
			lfiles = append(lfiles, filepath.Join(filepath.Dir(localPath), filepath.FromSlash(f.Path)))
		}
		var exclude []string
		if strings.HasPrefix(cp, lake.Quarantine+"/") {
			exclude = []string{"_run_id"}
		}
		gn, gsum := gcsRowsChecksum(t, db, gfiles, exclude...)
		ln, lsum := gcsRowsChecksum(t, db, lfiles, exclude...)
		if gn != gm.RowCount {
			t.Errorf("%s: the files listed on GCS hold %d rows, the manifest says %d", cp, gn, gm.RowCount)
		}
		if gn != ln || gsum != lsum {
			t.Errorf("%s: content differs: GCS %d rows md5 %s, local %d rows md5 %s", cp, gn, gsum, ln, lsum)
		}
	}
	// The same data, spec, run id and DuckDB settings give byte-identical Parquet
	// files on both lakes (observed, and so asserted): the GCS lake adds nothing
	// and loses nothing, and the manifests' file lists (paths, sizes, CRC32C) are
	// equal too.
	if identical != files {
		t.Errorf("%d of %d committed files have the same path, size, crc32c and bytes on both lakes, want all", identical, files)
	}

	// Gold: every table of schema gold in the two warehouses.
	for _, q := range []string{
		"ATTACH " + sqlStr(filepath.Join(tmp, "wh.duckdb")) + " AS wg (READ_ONLY)",
		"ATTACH " + sqlStr(filepath.Join(localLake, "warehouse.duckdb")) + " AS wl (READ_ONLY)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	tables := func(catalog string) []string {
		rows, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'gold' ORDER BY table_name", catalog)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	gt, lt := tables("wg"), tables("wl")
	if !slices.Equal(gt, lt) {
		t.Fatalf("gold tables differ\nGCS lake's warehouse: %v\nlocal lake's warehouse: %v", gt, lt)
	}
	if len(gt) == 0 {
		t.Fatal("no table in schema gold")
	}
	var nonEmpty int
	for _, tb := range gt {
		gn, gsum := gcsTableChecksum(t, db, "wg.gold."+gcsQuoteIdent(tb))
		ln, lsum := gcsTableChecksum(t, db, "wl.gold."+gcsQuoteIdent(tb))
		if gn != ln || gsum != lsum {
			t.Errorf("gold.%s differs: GCS lake's warehouse %d rows md5 %s, local %d rows md5 %s", tb, gn, gsum, ln, lsum)
		}
		if gn > 0 {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		t.Errorf("every gold table is empty: the comparison is vacuous")
	}
	t.Logf("compared %d files (%d byte-identical) and %d gold tables (%d non-empty)", files, identical, len(gt), nonEmpty)
}

// gcsDurationField is the time column of `worker run`'s summary.
var gcsDurationField = regexp.MustCompile(`\s+[0-9.]+(ns|µs|us|ms|s|m)\s*$`)

// gcsWithoutDurations drops the time column of a run summary, the only one that may
// differ between two runs of the same data.
func gcsWithoutDurations(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		// The table is aligned to its widest cell, durations included: compare fields.
		l = strings.Join(strings.Fields(gcsDurationField.ReplaceAllString(l, "")), " ")
		lines[i] = strings.TrimSuffix(l, " time")
	}
	return strings.Join(lines, "\n")
}

// gcsQuoteIdent quotes a DuckDB identifier.
func gcsQuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
