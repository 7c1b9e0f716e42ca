package lake_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
)

// The parsers of what the lake holds (manifests, pointers) and of the names the
// worker builds lake paths from (partition values, run ids) read untrusted
// input. Each fuzz target asserts: no panic; a parse that succeeds satisfies the
// invariants readers rely on and round-trips; everything else is an error.
// `make fuzz` runs them; their seeds (below and testdata/fuzz/) run in every
// `go test`.

// manifestSeeds are manifests as the worker and upstream write them (the DESIGN
// example, a silver commit point with its build counts, a rolled-back one) and
// broken ones; testdata/fuzz/FuzzParseManifest holds more.
func manifestSeeds(f *testing.F) {
	f.Add([]byte(`{"version": 1, "table": "orders", "partition": {"ingest_dt": "2026-11-20"},
 "files": [{"path": "part-00000.parquet", "rows": 10234, "bytes": 812345, "crc32c": "AAAAAA=="}],
 "row_count": 10234, "schema": [{"name": "order_id", "type": "VARCHAR"}],
 "source": "shop-db", "extracted_at": "2026-11-20T01:00:00Z"}`))
	m := lake.Manifest{Version: 1, Table: "orders", Layer: "silver", Partition: map[string]string{"ingestion_dt": "2026-11-20"},
		RowCount: 3, Files: []lake.File{{Path: "run=r1/part-0.parquet", Rows: 3, Bytes: 9, CRC32C: lake.CRC32C([]byte("abc"))}},
		RunID: "r1", CommittedAt: "2026-11-20T03:00:00Z", SpecSHA256: strings.Repeat("a", 64),
		Build: &lake.BuildCounts{RowsIn: 5, RowsOut: 3, RowsQuarantined: 1, RowsDeduplicated: 1, Reasons: map[string]int64{"pk_null": 1},
			Orphans: []lake.Orphans{{ForeignKey: "customer_id", References: "customers.customer_id", Rows: 1, Keys: 1, TopMissing: []lake.KeyCount{{Key: "c9", Rows: 1}}}}}}
	f.Add(lake.EncodeJSON(&m))
	m.RolledBackFrom, m.RolledBackAt = "r2", "2026-11-21T00:00:00Z"
	f.Add(lake.EncodeJSON(&m))
	f.Add([]byte(`{"version": 1, "table": "t", "partition": {"k": "v"}, "row_count": 0, "files": []}`))
	f.Add([]byte(`{"version": 1, "table": "t", "partition": {"k": "v"}, "row_count": 1, "files": [{"path": "../x", "rows": 1}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"version": 1}{"version": 2}`))
}

// FuzzParseManifest: a manifest that parses has a supported version, a table, one
// partition key, file paths that stay inside its folder, non-negative counts that
// add up to row_count; and encoding it again parses to the same manifest.
func FuzzParseManifest(f *testing.F) {
	manifestSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := lake.ParseManifest(b)
		if err != nil {
			if m != nil {
				t.Fatalf("a manifest and an error: %v", err)
			}
			return
		}
		if m.Version != lake.ManifestVersion || m.Table == "" || len(m.Partition) != 1 {
			t.Fatalf("accepted %+v", m)
		}
		var sum int64
		for _, file := range m.Files {
			if lake.CheckPath(file.Path) != nil || file.Rows < 0 || file.Bytes < 0 {
				t.Fatalf("accepted file %+v", file)
			}
			sum += file.Rows
		}
		if sum != m.RowCount {
			t.Fatalf("row_count %d, files hold %d", m.RowCount, sum)
		}
		again, err := lake.ParseManifest(lake.EncodeJSON(m))
		if err != nil {
			t.Fatalf("the encoded manifest does not parse: %v", err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed the manifest:\n%+v\n%+v", m, again)
		}
	})
}

// FuzzParsePointer: a pointer that parses has a supported version, a partition
// that is one path segment, valid run ids and a manifest path inside the lake;
// and it round-trips.
func FuzzParsePointer(f *testing.F) {
	p := lake.Pointer{Version: 1, Layer: "silver", Table: "orders", Partition: map[string]string{"ingestion_dt": "2026-11-20"},
		RunID: "20261120T030000Z-abc123", Manifest: "silver/orders/ingestion_dt=2026-11-20/_MANIFEST.json", UpdatedAt: "2026-11-20T03:00:00Z",
		LastCommit: &lake.CommitRecord{Partition: map[string]string{"ingestion_dt": "2026-11-19"}, RunID: "backfill", CommittedAt: "2026-11-20T03:00:00Z"}}
	f.Add(lake.EncodeJSON(&p))
	p.LastCommit = nil
	f.Add(lake.EncodeJSON(&p))
	f.Add([]byte(`{"version": 1, "layer": "dims", "table": "customers", "partition": {"snapshot_dt": "2026-11-20"}, "run_id": "r", "manifest": "dims/customers/snapshot_dt=2026-11-20/_MANIFEST.json", "updated_at": "x"}`))
	f.Add([]byte(`{"version": 1, "partition": {"k": "../../etc"}, "manifest": "/etc/passwd"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ptr, err := lake.ParsePointer(b)
		if err != nil {
			return
		}
		if ptr.Version != lake.ManifestVersion || len(ptr.Partition) > 1 {
			t.Fatalf("accepted %+v", ptr)
		}
		for k, v := range ptr.Partition {
			if strings.Contains(k+v, "/") || lake.CheckPath(lake.PartitionDir(lake.Silver, "t", k, v)) != nil {
				t.Fatalf("accepted partition %q=%q", k, v)
			}
		}
		if ptr.RunID != "" && lake.CheckRunID(ptr.RunID) != nil {
			t.Fatalf("accepted run id %q", ptr.RunID)
		}
		if ptr.Manifest != "" && lake.CheckPath(ptr.Manifest) != nil {
			t.Fatalf("accepted manifest %q", ptr.Manifest)
		}
		again, err := lake.ParsePointer(lake.EncodeJSON(ptr))
		if err != nil {
			t.Fatalf("the encoded pointer does not parse: %v", err)
		}
		if !reflect.DeepEqual(ptr, again) {
			t.Fatalf("round trip changed the pointer:\n%+v\n%+v", ptr, again)
		}
	})
}

// FuzzParseDate: a partition value that parses is a real calendar day written
// canonically (it formats back to itself) and makes a valid lake path.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-11-20", "2018-04-09", "2013-01-01", "2024-02-29", "2026-02-29", "../x", "2026-1-20", "２０２６-11-20", "2026-11-20\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := lake.ParseDate(s)
		if err != nil {
			if !strings.Contains(err.Error(), "partition") {
				t.Fatalf("error %q does not say what was wrong", err)
			}
			return
		}
		if got := d.Format(time.DateOnly); got != s {
			t.Fatalf("%q parses as %s", s, got)
		}
		if d.Location() != time.UTC {
			t.Fatalf("%q is not a UTC date", s)
		}
		if err := lake.CheckPath(lake.PartitionDir(lake.Bronze, "t", "ingest_dt", s)); err != nil {
			t.Fatalf("%q makes an invalid path: %v", s, err)
		}
	})
}

// FuzzRunID: a run id that CheckRunID accepts is one path segment (run=<id>);
// SafeRunID makes an accepted id of anything, and keeps an accepted id that
// neither starts nor ends with a dot as it is.
func FuzzRunID(f *testing.F) {
	for _, s := range []string{"20261120T030000Z-abc123", "scheduled__2026-11-20T03:00:00+00:00", "manual__2026-11-20T03:00:00.123456+00:00",
		"a", ".", "..", "...", "a/b", "run id", "ünï", "", "-", "_", "a..b", ".hidden"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if lake.CheckRunID(s) == nil {
			dir := lake.RunDir(lake.PartitionDir(lake.Silver, "t", "k", "v"), s)
			if err := lake.CheckPath(dir); err != nil || strings.Count(dir, "/") != 3 {
				t.Fatalf("run id %q makes the run folder %q (%v)", s, dir, err)
			}
			if !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".") && lake.SafeRunID(s) != s {
				t.Fatalf("SafeRunID(%q) = %q, want it unchanged", s, lake.SafeRunID(s))
			}
		}
		safe := lake.SafeRunID(s)
		if err := lake.CheckRunID(safe); err != nil {
			t.Fatalf("SafeRunID(%q) = %q: %v", s, safe, err)
		}
		if lake.SafeRunID(safe) != safe {
			t.Fatalf("SafeRunID is not idempotent on %q: %q", safe, lake.SafeRunID(safe))
		}
	})
}

// TestParseRefuses: what the parsers refuse, with the cause in the error.
func TestParseRefuses(t *testing.T) {
	m := `{"version": 1, "table": "t", "partition": {"k": "v"}, "row_count": 0, "files": []}`
	p := `{"version": 1, "layer": "silver", "table": "t", "partition": {"d": "2026-11-20"}, "run_id": "r1", "manifest": "silver/t/d=2026-11-20/_MANIFEST.json"}`
	tests := []struct {
		name, input, want string
		parse             func([]byte) error
	}{
		{"manifest followed by more data", m + ` {"version": 2}`, "data after the JSON object", manifest},
		{"manifest that is null", `null`, "not a JSON object", manifest},
		{"manifest in an array", `[` + m + `]`, "not a JSON object", manifest},
		{"pointer that is null", `null`, "not a JSON object", pointer},
		{"pointer followed by more data", p + `}`, "data after the JSON object", pointer},
		{"pointer of another version", strings.Replace(p, `"version": 1`, `"version": 2`, 1), "unsupported pointer version 2", pointer},
		{"pointer to a manifest outside the lake", strings.Replace(p, `"silver/t/d=2026-11-20/_MANIFEST.json"`, `"../x/_MANIFEST.json"`, 1), "invalid lake path", pointer},
		{"pointer to a partition with a slash", strings.Replace(p, `"2026-11-20"}`, `"a/b"}`, 1), "is not one path segment", pointer},
		{"pointer naming a bad run id", strings.Replace(p, `"r1"`, `"r 1"`, 1), "run id", pointer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse([]byte(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := lake.ParseManifest([]byte(m)); err != nil {
		t.Errorf("a valid manifest: %v", err)
	}
	if _, err := lake.ParsePointer([]byte(p)); err != nil {
		t.Errorf("a valid pointer: %v", err)
	}
}

func manifest(b []byte) error { _, err := lake.ParseManifest(b); return err }
func pointer(b []byte) error  { _, err := lake.ParsePointer(b); return err }
