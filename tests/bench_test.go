package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// benchResults is the part of bench/results.json this test reads.
type benchResults struct {
	Commit  string `json:"commit"`
	Machine struct {
		Cores       int     `json:"cores"`
		MemoryBytes float64 `json:"memory_bytes"`
		CPUModel    string  `json:"cpu_model"`
	} `json:"machine"`
	Settings struct {
		Scales            []float64 `json:"scales"`
		GrowthHistoryDays []int     `json:"growth_history_days"`
		Threads           int       `json:"threads"`
		MemoryLimit       string    `json:"memory_limit"`
	} `json:"settings"`
	Measurements []struct {
		Series      string  `json:"series"`
		Scale       float64 `json:"scale"`
		HistoryDays int     `json:"history_days"`
		Stage       string  `json:"stage"`
		WallS       float64 `json:"wall_s"`
		PeakRSS     float64 `json:"peak_rss_bytes"`
		Rows        int64   `json:"rows"`
		ExitCode    int     `json:"exit_code"`
		Note        string  `json:"note"`
	} `json:"measurements"`
	SilverOverFloor map[string]float64 `json:"silver_over_floor"`
	HistoryGrowth   *struct {
		FromDays int      `json:"from_days"`
		ToDays   int      `json:"to_days"`
		Silver   *float64 `json:"silver"`
		Enriched *float64 `json:"enriched"`
	} `json:"history_growth"`
	Targets []struct {
		Name string `json:"name"`
		Met  *bool  `json:"met"`
	} `json:"targets"`
}

// TestBenchScriptEndToEnd runs `make bench`'s script at a tiny scale: every stage
// of both series runs cleanly and is reported, with the ratios, in the table and in
// the JSON results. The scale series' one day of history is the growth series'
// shortest lake, so the second time it is served from the cache. Only what was
// measured and how is checked: no figure is asserted.
func TestBenchScriptEndToEnd(t *testing.T) {
	dir := t.TempDir()
	results, cache := filepath.Join(dir, "results.json"), filepath.Join(dir, "cache")
	cmd := exec.Command("bash", "bench.sh")
	cmd.Env = append(os.Environ(), "WORKER="+workerBin, "BENCH_SCALES=0.002", "BENCH_HISTORY=1",
		"BENCH_GROWTH_SCALE=0.002", "BENCH_GROWTH_DAYS=1 2", "BENCH_CACHE="+cache, "BENCH_RESULTS="+results,
		"BENCH_THREADS=2", "BENCH_MEMORY_LIMIT=1GB", "TMPDIR="+dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench.sh: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), tail(errb.String(), 20))
	}
	for _, want := range []string{"silver/floor ratio:  scale 0.002:", "history-growth ratio (2 vs 1 day(s) of history):  silver ",
		"== targets of issue 11", "bench: results in " + results} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}

	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	var r benchResults
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("results are not JSON: %v\n%s", err, b)
	}
	if r.Commit == "" || r.Machine.Cores < 1 || r.Machine.MemoryBytes <= 0 || r.Machine.CPUModel == "" {
		t.Errorf("machine and commit = %q %+v", r.Commit, r.Machine)
	}
	if r.Settings.Threads != 2 || r.Settings.MemoryLimit != "1GB" || len(r.Settings.Scales) != 1 || len(r.Settings.GrowthHistoryDays) != 2 {
		t.Errorf("settings = %+v", r.Settings)
	}
	type stage struct {
		series  string
		history int
		name    string
	}
	seen := map[stage]string{}
	for _, m := range r.Measurements {
		if m.ExitCode != 0 || m.Rows <= 0 || m.Scale != 0.002 {
			t.Errorf("measurement %+v: want exit 0, rows, scale 0.002", m)
		}
		if m.Note == "" && (m.WallS <= 0 || m.PeakRSS <= 0) {
			t.Errorf("measurement %+v has no wall time or peak RSS", m)
		}
		seen[stage{m.Series, m.HistoryDays, m.Stage}] = m.Note
	}
	for _, want := range []stage{
		{"scale", 1, "generate"}, {"scale", 1, "history"}, {"scale", 1, "silver"}, {"scale", 1, "silver publish"}, {"scale", 1, "enriched"}, {"scale", 1, "gold"}, {"scale", 1, "floor"},
		{"growth", 1, "generate"}, {"growth", 1, "history"}, {"growth", 1, "silver"}, {"growth", 1, "enriched"},
		{"growth", 2, "generate"}, {"growth", 2, "history"}, {"growth", 2, "silver"}, {"growth", 2, "enriched"},
	} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no %s measurement (series %s, %d day(s) of history)", want.name, want.series, want.history)
		}
	}
	if note := seen[stage{"scale", 1, "generate"}]; note != "" {
		t.Errorf("the first lake's bronze came from an empty cache: %q", note)
	}
	if note := seen[stage{"growth", 1, "generate"}]; !strings.HasPrefix(note, "cached: "+cache+"/bench-") {
		t.Errorf("the same generated days again were not served from the cache: note %q", note)
	}
	if _, ok := r.SilverOverFloor["0.002"]; !ok {
		t.Errorf("silver_over_floor = %v, want scale 0.002's", r.SilverOverFloor)
	}
	if g := r.HistoryGrowth; g == nil || g.FromDays != 1 || g.ToDays != 2 || g.Silver == nil || g.Enriched == nil {
		t.Errorf("history_growth = %+v", g)
	}
	if len(r.Targets) != 2 {
		t.Errorf("targets = %+v, want the two growth ratios (no scale 1 run)", r.Targets)
	}
}
