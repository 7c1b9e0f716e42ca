package generate

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks"
)

// lakeFiles reads every file under a local lake root.
func lakeFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSameSeedSameBytes(t *testing.T) {
	o := Options{Days: 2, Start: day0, Scale: 0.001, Seed: 7, FaultRate: 0.05}
	a, b := t.TempDir(), t.TempDir()
	generate(t, a, o)
	generate(t, b, o)
	fa, fb := lakeFiles(t, a), lakeFiles(t, b)
	if len(fa) != len(fb) {
		t.Fatalf("first run wrote %d files, second %d", len(fa), len(fb))
	}
	// 8 tables x 2 days x (1 file + manifest) + the ledger
	if want := 8*2*2 + 1; len(fa) != want {
		t.Errorf("wrote %d files, want %d", len(fa), want)
	}
	for p, ba := range fa {
		if !bytes.Equal(ba, fb[p]) {
			t.Errorf("%s differs between two runs with the same seed", p)
		}
	}
}

func TestOtherSeedOtherData(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	generate(t, a, Options{Days: 1, Start: day0, Scale: 0.001, Seed: 1})
	generate(t, b, Options{Days: 1, Start: day0, Scale: 0.001, Seed: 2})
	fa, fb := lakeFiles(t, a), lakeFiles(t, b)
	for _, table := range []string{"customers", "orders", "order_items", "cart_events"} {
		p := "bronze/" + table + "/ingest_dt=2026-11-20/part-00000.parquet"
		if len(fa[p]) == 0 || bytes.Equal(fa[p], fb[p]) {
			t.Errorf("%s is the same for seeds 1 and 2", p)
		}
	}
}

func TestRowCountsScale(t *testing.T) {
	small := generate(t, t.TempDir(), Options{Days: 1, Start: day0, Scale: 0.001, Seed: 3})
	big := generate(t, t.TempDir(), Options{Days: 1, Start: day0, Scale: 0.004, Seed: 3})
	rows := func(r *Result) map[string]float64 {
		m := map[string]float64{}
		for _, tr := range r.Tables {
			m[tr.Table] = float64(tr.Rows)
		}
		return m
	}
	s, b := rows(small), rows(big)
	if s["orders"] != 1000 || b["orders"] != 4000 {
		t.Errorf("orders: %v at scale 0.001 and %v at 0.004, want 1000 and 4000", s["orders"], b["orders"])
	}
	// Per-order ratios of DESIGN section 8, at both scales.
	for _, m := range []map[string]float64{s, b} {
		per := func(table string) float64 { return m[table] / m["orders"] }
		within(t, "order items per order", per("order_items"), 2.8, 3.2)
		within(t, "cart events per order", per("cart_events"), 8.5, 11.5)
		within(t, "payments per order", per("payments"), 1.02, 1.09)
		within(t, "shipments per order", per("shipments"), 0.86, 0.95)
		within(t, "returns per order", per("returns"), 0.035, 0.065)
		within(t, "new customers per order", per("customers"), 0.045, 0.055)
	}
	within(t, "products at scale 0.004", b["products"], 80, 80)
	// Tiny scales keep a few rows in every table.
	tiny := generate(t, t.TempDir(), Options{Days: 2, Start: day0, Scale: 1e-6, Seed: 3})
	for _, tr := range tiny.Tables {
		if tr.Rows < 2*2 {
			t.Errorf("scale 1e-6: %s has %d rows over 2 days", tr.Table, tr.Rows)
		}
	}
}

func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi || math.IsNaN(got) {
		t.Errorf("%s = %.3f, want within [%v, %v]", what, got, lo, hi)
	}
}

func TestOptionsValidate(t *testing.T) {
	ok := Options{Days: 1, Start: day0, Scale: 1}
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"ok", func(*Options) {}, ""},
		{"max fault rate", func(o *Options) { o.FaultRate = 0.5 }, ""},
		{"no days", func(o *Options) { o.Days = 0 }, "days must be at least 1"},
		{"no start", func(o *Options) { o.Start = time.Time{} }, "start date is required"},
		{"start not a date", func(o *Options) { o.Start = day0.Add(time.Hour) }, "start must be a date"},
		{"zero scale", func(o *Options) { o.Scale = 0 }, "scale must be a number above 0"},
		{"NaN scale", func(o *Options) { o.Scale = math.NaN() }, "scale must be a number above 0"},
		{"negative fault rate", func(o *Options) { o.FaultRate = -0.1 }, "fault rate must be between 0 and 0.5"},
		{"fault rate too high", func(o *Options) { o.FaultRate = 0.6 }, "fault rate must be between 0 and 0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			err := o.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
			if _, err := Run(context.Background(), testEnv(t, t.TempDir()), o); err == nil {
				t.Fatal("Run accepted invalid options")
			}
		})
	}
}

func TestRejectsNonShopSpec(t *testing.T) {
	env := testEnv(t, t.TempDir())
	s := *env.Spec
	s.Bronze.Tables = slices.DeleteFunc(slices.Clone(s.Bronze.Tables), func(bt specBronzeTable) bool {
		return bt.Name == "returns" || bt.Name == "cart_events"
	})
	env.Spec = &s
	_, err := Run(context.Background(), env, Options{Days: 1, Start: day0, Scale: 0.001})
	if err == nil || !strings.Contains(err.Error(), "no bronze table returns, cart_events") {
		t.Fatalf("Run = %v, want an error naming the missing tables", err)
	}
	if files := lakeFiles(t, env.Lake.(*lake.Local).Root()); len(files) != 0 {
		t.Errorf("a refused run wrote %d files", len(files))
	}

	env = testEnv(t, t.TempDir())
	s = *env.Spec
	s.BaseSilver.Tables = slices.Clone(s.BaseSilver.Tables)
	orders := s.BaseSilver.Tables[2]
	orders.PrimaryKey = []string{"order_id", "customer_id"}
	s.BaseSilver.Tables[2] = orders
	env.Spec = &s
	_, err = Run(context.Background(), env, Options{Days: 1, Start: day0, Scale: 0.001})
	if err == nil || !strings.Contains(err.Error(), "primary key [order_id, customer_id]") {
		t.Fatalf("Run = %v, want an error about the orders key", err)
	}
}

// recordingLake remembers the order in which objects were written.
type recordingLake struct {
	lake.Lake
	mu     sync.Mutex
	writes []string
}

func (r *recordingLake) Write(ctx context.Context, p string, rd io.Reader, pre lake.Precondition) (lake.ObjectInfo, error) {
	info, err := r.Lake.Write(ctx, p, rd, pre)
	r.mu.Lock()
	r.writes = append(r.writes, p)
	r.mu.Unlock()
	return info, err
}

func TestManifests(t *testing.T) {
	env := testEnv(t, t.TempDir())
	rec := &recordingLake{Lake: env.Lake}
	env.Lake = rec
	ctx := context.Background()
	// Small files and row groups, so partitions span several files.
	cfg := config{maxFileRows: 3000, rowGroupRows: 500}
	res, err := run(ctx, env, Options{Days: 2, Start: day0, Scale: 0.001, Seed: 5, FaultRate: 0.02}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	multi := false
	for _, tr := range res.Tables {
		bt, _ := env.Spec.BronzeTable(tr.Table)
		var rows int64
		for _, d := range []string{"2026-11-20", "2026-11-21"} {
			dir := lake.PartitionDir(lake.Bronze, tr.Table, "ingest_dt", d)
			m, _, err := lake.ReadManifest(ctx, env.Lake, path.Join(dir, lake.ManifestFile))
			if err != nil {
				t.Fatal(err)
			}
			if m.Table != tr.Table || m.Partition["ingest_dt"] != d || m.Source != Source {
				t.Errorf("%s: manifest names table %q partition %v source %q", dir, m.Table, m.Partition, m.Source)
			}
			if dt, _ := time.Parse(time.DateOnly, d); m.ExtractedAt != dt.AddDate(0, 0, 1).Format(time.DateOnly)+"T01:00:00Z" {
				t.Errorf("%s: extracted_at %s", dir, m.ExtractedAt)
			}
			if len(m.Schema) != len(bt.Columns) {
				t.Fatalf("%s: schema has %d columns, spec %d", dir, len(m.Schema), len(bt.Columns))
			}
			for i, c := range bt.Columns {
				if m.Schema[i].Name != c.Name || m.Schema[i].Type != c.Type {
					t.Errorf("%s: schema[%d] = %+v, spec says %s %s", dir, i, m.Schema[i], c.Name, c.Type)
				}
			}
			if len(m.Files) > 1 {
				multi = true
			}
			for i, f := range m.Files {
				if want := "part-0000" + string(rune('0'+i)) + ".parquet"; f.Path != want {
					t.Errorf("%s: file %d is %s, want %s", dir, i, f.Path, want)
				}
				p := path.Join(dir, f.Path)
				info, err := env.Lake.Stat(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				if info.Size != f.Bytes || info.CRC32C != f.CRC32C {
					t.Errorf("%s: manifest says %d bytes crc %s, file has %d bytes crc %s", p, f.Bytes, f.CRC32C, info.Size, info.CRC32C)
				}
				if f.Rows > cfg.maxFileRows {
					t.Errorf("%s: %d rows, more than %d", p, f.Rows, cfg.maxFileRows)
				}
				if n := parquetRows(t, env.Lake.(*recordingLake).Lake, p, bt.Columns); n != f.Rows {
					t.Errorf("%s: manifest says %d rows, the file has %d", p, f.Rows, n)
				}
				rows += f.Rows
				// The manifest is the partition's commit point: written after its files.
				if fi, mi := slices.Index(rec.writes, p), slices.Index(rec.writes, path.Join(dir, lake.ManifestFile)); fi < 0 || mi < fi {
					t.Errorf("%s: written at %d, its manifest at %d", p, fi, mi)
				}
			}
		}
		if rows != tr.Rows {
			t.Errorf("%s: manifests count %d rows, the result %d", tr.Table, rows, tr.Rows)
		}
	}
	if !multi {
		t.Error("no partition was split into several files")
	}
	if last := rec.writes[len(rec.writes)-1]; last != LedgerPath {
		t.Errorf("last write is %s, want the ledger", last)
	}
}

// parquetRows checks a file's schema against the spec's columns and counts its rows.
func parquetRows(t *testing.T, l lake.Lake, p string, cols []specColumn) int64 {
	t.Helper()
	b, err := lake.ReadAll(context.Background(), l, p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	fields := f.Schema().Fields()
	if len(fields) != len(cols) {
		t.Fatalf("%s: %d columns, want %d", p, len(fields), len(cols))
	}
	for i, fl := range fields {
		lt := fl.Type().LogicalType()
		if fl.Name() != cols[i].Name || !fl.Optional() || fl.Type().Kind() != parquet.ByteArray || lt == nil || lt.String() != "STRING" {
			t.Errorf("%s: column %d is %s (%v), want OPTIONAL BYTE_ARRAY STRING %s", p, i, fl.Name(), fl.Type(), cols[i].Name)
		}
	}
	return f.NumRows()
}

func TestNoLake(t *testing.T) {
	_, err := Run(context.Background(), &tasks.Env{Spec: shopSpec(t)}, Options{Days: 1, Start: day0, Scale: 1})
	if err == nil || !strings.Contains(err.Error(), "no lake") {
		t.Fatalf("Run without a lake = %v", err)
	}
}
