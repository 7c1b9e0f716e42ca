package scaffold

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/bronze"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const seeds = "../../specs/jaffle_shop/seeds"

var testDuck = duck.Options{MemoryLimit: "512MB", Threads: 2}

func seed(name string) string { return filepath.Join(seeds, "raw_"+name+".csv") }

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

// jaffleCases are the jaffle_shop seeds scaffolded together and each alone.
var jaffleCases = []struct {
	golden string
	tables []string
}{
	{"jaffle_all.yaml", []string{"customers", "orders", "payments"}},
	{"jaffle_customers.yaml", []string{"customers"}},
	{"jaffle_orders.yaml", []string{"orders"}},
	{"jaffle_payments.yaml", []string{"payments"}},
}

// TestJaffleScaffoldLintsAndRuns scaffolds the jaffle_shop seeds, compares the
// output with its golden file, then writes it into a spec folder: it lints, and
// bronze import of the same files, silver build, validate and publish pass with
// every row in silver and nothing quarantined.
func TestJaffleScaffoldLintsAndRuns(t *testing.T) {
	ctx := context.Background()
	for _, tc := range jaffleCases {
		t.Run(tc.golden, func(t *testing.T) {
			var files []string
			for _, tbl := range tc.tables {
				files = append(files, seed(tbl))
			}
			res, err := Run(ctx, Options{Tables: tc.tables, Files: files, Pipeline: "jaffle", Duck: testDuck})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, res.YAML)

			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, spec.PipelineFile), res.YAML, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := lint(dir, "scaffolded", nil)
			if err != nil {
				t.Fatalf("the scaffolded spec does not lint:\n%v", err)
			}
			checkJaffle(t, s, string(res.YAML))
			runSilver(t, s, tc.tables, files)
		})
	}
}

// checkJaffle asserts what the scaffold must find in the jaffle_shop seeds, as
// specs/jaffle_shop/pipeline.yaml has it by hand, whatever the golden files say.
func checkJaffle(t *testing.T, s *spec.Spec, out string) {
	t.Helper()
	types := map[string]string{
		"customers.id": "INTEGER", "customers.first_name": "VARCHAR",
		"orders.id": "INTEGER", "orders.user_id": "INTEGER", "orders.order_date": "DATE", "orders.status": "VARCHAR",
		"payments.id": "INTEGER", "payments.order_id": "INTEGER", "payments.payment_method": "VARCHAR", "payments.amount": "INTEGER",
	}
	for _, st := range s.BaseSilver.Tables {
		if len(st.PrimaryKey) != 1 || st.PrimaryKey[0] != "id" {
			t.Errorf("%s: primary key %v, want [id]", st.Name, st.PrimaryKey)
		}
		for _, c := range st.Columns {
			if want, ok := types[st.Name+"."+c.Name]; ok && c.Type != want {
				t.Errorf("%s.%s: type %s, want %s", st.Name, c.Name, c.Type, want)
			}
		}
		if bt, _ := s.BronzeTable(st.Name); bt != nil {
			for _, c := range bt.Columns {
				if c.Type != "VARCHAR" {
					t.Errorf("bronze %s.%s: type %s, want VARCHAR (as delivered)", st.Name, c.Name, c.Type)
				}
			}
		}
	}
	suggestions := map[string]string{
		"orders":   "# - {name: status, type: VARCHAR, not_null: true, accepted_values: [completed, placed, return_pending, returned, shipped]}",
		"payments": "# - {name: payment_method, type: VARCHAR, not_null: true, accepted_values: [bank_transfer, coupon, credit_card, gift_card]}",
	}
	for tbl, line := range suggestions {
		if _, ok := s.SilverTable(tbl); ok && !strings.Contains(out, line) {
			t.Errorf("no accepted_values suggestion for %s:\n%s", tbl, line)
		}
	}
	_, hasOrders := s.SilverTable("orders")
	if p, ok := s.SilverTable("payments"); ok && hasOrders {
		if len(p.ForeignKeys) != 1 || p.ForeignKeys[0].Column != "order_id" || p.ForeignKeys[0].References != "orders.id" {
			t.Errorf("payments foreign keys %+v, want order_id -> orders.id", p.ForeignKeys)
		}
	}
	if _, ok := s.SilverTable("customers"); ok && hasOrders && !strings.Contains(out, "# - {column: user_id, references: customers.id}") {
		t.Error("orders.user_id -> customers.id is not suggested")
	}
}

// runSilver imports the files into bronze and builds, validates and publishes
// silver for every table (in the given order: FK parents first), requiring that
// every row reaches silver. It returns the lake's folder.
func runSilver(t *testing.T, s *spec.Spec, tables, files []string) string {
	t.Helper()
	ctx := context.Background()
	lakeDir := t.TempDir()
	l, err := lake.NewLocal(lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	env := &tasks.Env{Spec: s, Lake: l, Log: logx.Discard(), RunID: "scaffold1", WorkDir: t.TempDir(),
		Duck: testDuck, Version: "test", Now: func() time.Time { return time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC) }}
	const d = "2018-04-09"
	for i, tbl := range tables {
		if _, err := bronze.Import(ctx, env, bronze.ImportOptions{Table: tbl, Partition: d, Files: []string{files[i]}}); err != nil {
			t.Fatalf("bronze import %s: %v", tbl, err)
		}
	}
	for _, tbl := range tables {
		rec, err := silver.Build(ctx, env, silver.Options{Table: tbl, Partition: d})
		if err != nil {
			t.Fatalf("silver build %s: %v", tbl, err)
		}
		if rec.RowsIn == 0 || rec.RowsOut != rec.RowsIn || rec.RowsQuarantined != 0 || rec.RowsDeduplicated != 0 {
			t.Errorf("silver build %s: rows in %d, out %d, quarantined %d, deduplicated %d; want every row out",
				tbl, rec.RowsIn, rec.RowsOut, rec.RowsQuarantined, rec.RowsDeduplicated)
		}
		if _, _, err := silver.Validate(ctx, env, silver.Options{Table: tbl, Partition: d}); err != nil {
			t.Fatalf("silver validate %s: %v", tbl, err)
		}
		if _, err := publish.Run(ctx, env, publish.Options{Layer: "silver", Table: tbl, Partition: d}); err != nil {
			t.Fatalf("publish %s: %v", tbl, err)
		}
	}
	return lakeDir
}

// TestScaffoldInfers checks what is inferred from small files written for it.
// null_values and csv: are keys of the spec loader being added (DESIGN section
// 10), so their output is checked as text here.
func TestScaffoldInfers(t *testing.T) {
	cases := []struct {
		golden string
		files  []string
		want   []string // lines the output must hold
		absent []string
	}{
		{
			golden: "na_tokens.yaml", files: []string{"testdata/na_tokens.csv"},
			want: []string{
				`      null_values: ["", "NA", "nan"]`,
				`      # "nan" means missing: seen in score (1 row, otherwise INTEGER)`,
				`        - {name: score, type: INTEGER}`,
				`      # "NA" means missing: seen in amount (1 row, otherwise DECIMAL(9,3)), ordered_on (1 row, otherwise DATE), paid (1 row, otherwise BOOLEAN)`,
				`        - {name: amount, type: "DECIMAL(9,3)"}`,
				`        - {name: ordered_on, type: DATE}`,
				`        - {name: paid, type: BOOLEAN}`,
				`        # holds "NA" in 1 row: null_values turns it into NULL here too`,
				`        - {name: code, type: VARCHAR, not_null: true}`, // leading zeros stay text
			},
			absent: []string{"csv:"},
		},
		{
			golden: "semicolon.yaml", files: []string{"testdata/semicolon.csv"},
			want: []string{
				`      csv: {delimiter: ";", quote: "\"", escape: "\"", header: true, skip_rows: 0, encoding: utf-8}`,
				`        - {name: customer, type: VARCHAR, not_null: true}`,
				`        # GUESS: numbers with a decimal comma (e.g. "12,50"), read with the comma as the point`,
				`        - {name: amount, type: "DECIMAL(9,2)", not_null: true, expr: "replace(amount, ',', '.')"}`,
				`        - {name: ordered, type: DATE, not_null: true, expr: "try_strptime(ordered, '%d/%m/%Y')"}`,
				`      primary_key: [order_ref]`,
			},
			absent: []string{"null_values"},
		},
		{
			golden: "preamble.yaml", files: []string{"testdata/preamble.csv"},
			want: []string{
				`      # DuckDB's sniffer found quote "'", escape "'", 2 line(s) to skip before the header`,
				`      csv: {delimiter: ",", quote: "'", escape: "'", header: true, skip_rows: 2, encoding: utf-8}`,
				`        - {name: name, type: VARCHAR, not_null: true}`,
			},
		},
		{
			golden: "events.yaml", files: []string{"testdata/events.ndjson"},
			want: []string{
				`        - {name: props, type: VARCHAR}`, // nested JSON stays its text
				`        - {name: at, type: TIMESTAMP, not_null: true}`,
				`        - {name: event_id, type: INTEGER, not_null: true}`,
				`      primary_key: [event_id]`,
			},
			absent: []string{"null_values", "csv:"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			res, err := Run(context.Background(), Options{Tables: []string{"things"}, Files: tc.files, Duck: testDuck})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, res.YAML)
			lines := strings.Split(string(res.YAML), "\n")
			for _, w := range tc.want {
				if !contains(lines, w) {
					t.Errorf("output lacks the line\n%s", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(string(res.YAML), a) {
					t.Errorf("output holds %q", a)
				}
			}
		})
	}
}

// TestScaffoldOutputWithoutNewKeys: the fixtures' outputs lint once the keys the
// loader does not know yet (csv:, null_values:) are taken out, so everything else
// the scaffold writes is valid spec. The semicolon file then runs as well, since
// bronze import's own sniffing finds its delimiter: quoted delimiters, decimal
// commas and day-first dates reach silver as meant.
func TestScaffoldOutputWithoutNewKeys(t *testing.T) {
	for _, f := range []string{"testdata/na_tokens.csv", "testdata/semicolon.csv", "testdata/events.ndjson"} {
		res, err := Run(context.Background(), Options{Tables: []string{"things"}, Files: []string{f}, Duck: testDuck})
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, l := range strings.Split(string(res.YAML), "\n") {
			if s := strings.TrimSpace(l); strings.HasPrefix(s, "csv:") || strings.HasPrefix(s, "null_values:") {
				continue
			}
			kept = append(kept, l)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, spec.PipelineFile), []byte(strings.Join(kept, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := lint(dir, f, nil)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if f == "testdata/semicolon.csv" {
			lakeDir := runSilver(t, s, []string{"things"}, []string{f})
			got := silverRows(t, lakeDir, "things", `SELECT order_ref, customer, CAST(amount AS VARCHAR), CAST(ordered AS VARCHAR) FROM silver ORDER BY order_ref`)
			if want := "A-1 Dupont; Marie 12.50 2024-01-31\nA-2 Martin; Paul 7.00 2024-02-01\nA-3 Durand; Léa 19.99 2024-02-15"; got != want {
				t.Errorf("silver rows:\n%s\nwant:\n%s", got, want)
			}
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestScaffoldParquetKeepsTypes: Parquet bronze columns keep their types, and
// silver types its text columns.
func TestScaffoldParquetKeepsTypes(t *testing.T) {
	ctx := context.Background()
	s, err := duck.Open(ctx, testDuck)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "orders.parquet")
	abs, _ := filepath.Abs(seed("orders"))
	err = s.Exec(ctx, "COPY (SELECT CAST(id AS BIGINT) AS id, CAST(order_date AS DATE) AS order_date, CAST(user_id AS VARCHAR) AS user_id, status FROM read_csv("+duck.Str(abs)+")) TO "+duck.Str(p)+" (FORMAT parquet)")
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, Options{Tables: []string{"orders"}, Files: []string{p}, Duck: testDuck})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.YAML)
	for _, w := range []string{
		"        - {name: id, type: BIGINT}\n",                       // bronze, as delivered
		"        - {name: order_date, type: DATE}\n",                 // bronze
		"        - {name: user_id, type: VARCHAR}\n",                 // bronze: text in the file
		"        - {name: user_id, type: INTEGER, not_null: true}\n", // silver types it
		"        - {name: id, type: BIGINT, not_null: true}\n",
		"        - {name: order_date, type: DATE, not_null: true}\n",
		"# orders: orders.parquet, 99 rows, Parquet\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestScaffoldRefuses: usage mistakes exit 2 with a clear message.
func TestScaffoldRefuses(t *testing.T) {
	jaffleCopy := copyJaffle(t)
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"missing file", Options{Tables: []string{"a"}, Files: []string{"testdata/nope.csv"}}, "testdata/nope.csv does not exist"},
		{"empty file", Options{Tables: []string{"a"}, Files: []string{emptyFile(t)}}, "is empty"},
		{"unknown format", Options{Tables: []string{"a"}, Files: []string{"scaffold.go"}}, "unknown format"},
		{"no table", Options{Files: []string{seed("orders")}}, "--table"},
		{"bad table name", Options{Tables: []string{"my-table"}, Files: []string{seed("orders")}}, `--table "my-table" is not a plain identifier`},
		{"tables and files do not pair", Options{Tables: []string{"a", "b"}, Files: []string{seed("orders")}}, "2 --table flags for 1 files"},
		{"header names", Options{Tables: []string{"a"}, Files: []string{"testdata/bad_names.csv"}}, `"Order ID" (e.g. order_id), "Total (EUR)" (e.g. total_eur) are not plain identifiers`},
		{"table exists", Options{Tables: []string{"orders"}, Files: []string{seed("orders")}, Into: jaffleCopy}, "table orders exists already"},
		{"pipeline with into", Options{Tables: []string{"x"}, Files: []string{seed("orders")}, Into: jaffleCopy, Pipeline: "p"}, "--pipeline"},
		{"into no spec", Options{Tables: []string{"x"}, Files: []string{seed("orders")}, Into: t.TempDir()}, "pipeline.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Duck = testDuck
			_, err := Run(context.Background(), tc.o)
			if err == nil {
				t.Fatal("no error")
			}
			if fail.Code(err) != fail.BadUsage {
				t.Errorf("exit code %d, want %d: %v", fail.Code(err), fail.BadUsage, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
	// Refusals leave the spec as it was.
	got, _ := os.ReadFile(filepath.Join(jaffleCopy, spec.PipelineFile))
	want, _ := os.ReadFile("../../specs/jaffle_shop/pipeline.yaml")
	if !bytes.Equal(got, want) {
		t.Error("a refused --into changed pipeline.yaml")
	}
}

func emptyFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// copyJaffle copies specs/jaffle_shop (pipeline.yaml and sql/) into a temp folder.
func copyJaffle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "../../specs/jaffle_shop"
	for _, rel := range []string{"pipeline.yaml", "sql/gold/customers.sql", "sql/gold/orders.sql"} {
		b, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestScaffoldInto adds a fourth table to a copy of specs/jaffle_shop: every
// original line is kept, in order, the two insertions are the only change, and
// the result lints and runs.
func TestScaffoldInto(t *testing.T) {
	dir := copyJaffle(t)
	orig, err := os.ReadFile(filepath.Join(dir, spec.PipelineFile))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Tables: []string{"refunds"}, Files: []string{"testdata/refunds.csv"}, Into: dir, Duck: testDuck})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, spec.PipelineFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, res.YAML) {
		t.Error("the file written differs from the result returned")
	}
	golden(t, "jaffle_into_refunds.yaml", got)
	if chunks := insertedChunks(t, string(orig), string(got)); chunks != 2 {
		t.Errorf("%d inserted chunks, want 2 (bronze and base_silver)", chunks)
	}
	s, err := lint(dir, "jaffle", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Bronze.Tables) != 4 || len(s.BaseSilver.Tables) != 4 || s.Bronze.Tables[3].Name != "refunds" || s.BaseSilver.Tables[3].Name != "refunds" {
		t.Errorf("tables after --into: %d bronze, %d silver; want refunds appended to both", len(s.Bronze.Tables), len(s.BaseSilver.Tables))
	}
	// The order_id key to the existing orders is suggested by name, commented.
	if !strings.Contains(string(got), "        # - {column: order_id, references: orders.id}\n") {
		t.Error("no commented foreign key suggestion for refunds.order_id")
	}
	runSilver(t, s, []string{"refunds"}, []string{"testdata/refunds.csv"})
}

// insertedChunks checks that orig's lines are all in got, in order, and counts
// the runs of lines got adds.
func insertedChunks(t *testing.T, orig, got string) int {
	t.Helper()
	o, g := strings.SplitAfter(orig, "\n"), strings.SplitAfter(got, "\n")
	i, chunks, inChunk := 0, 0, false
	for _, l := range g {
		if i < len(o) && l == o[i] {
			i++
			inChunk = false
			continue
		}
		if !inChunk {
			chunks++
		}
		inChunk = true
	}
	if i != len(o) {
		t.Fatalf("original line %d (%q) is not kept", i+1, o[i])
	}
	return chunks
}

// TestInsertPositions: where a block list ends, whatever follows it.
func TestInsertPositions(t *testing.T) {
	base := func(bronzeTables, silverTables string) string {
		return "pipeline: p\nbronze:\n  tables:\n" + bronzeTables + "base_silver:\n  tables:\n" + silverTables
	}
	bt := "    - name: a\n      columns:\n        - {name: id, type: VARCHAR}\n"
	st := "    - name: a\n      source: a\n      primary_key: [id]\n      columns:\n        - {name: id, type: INTEGER}\n"
	cases := []struct {
		name, in string
	}{
		{"plain", base(bt, st)},
		{"trailing comments belong to what follows", base(bt+"# next: silver\n\n", st+"\n# the end\n")},
		{"comment inside the last item stays with it", base(bt+"        # - {name: x, type: VARCHAR}\n", st)},
		{"indentless lists", "pipeline: p\nbronze:\n  tables:\n  - name: a\n    columns:\n    - {name: id, type: VARCHAR}\n  partition_key: ingest_dt\nbase_silver:\n  tables:\n  - name: a\n    source: a\n    primary_key: [id]\n    columns:\n    - {name: id, type: INTEGER}"},
		{"crlf", strings.ReplaceAll(base(bt, st), "\n", "\r\n")},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, spec.PipelineFile), []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Run(ctx, Options{Tables: []string{"refunds"}, Files: []string{"testdata/refunds.csv"}, Into: dir, Duck: testDuck})
			if err != nil {
				t.Fatal(err)
			}
			out := string(res.YAML)
			// A file without a final newline gets one, so a table can follow its last line.
			in := strings.TrimSuffix(strings.ReplaceAll(tc.in, "\r\n", "\n"), "\n") + "\n"
			if n := insertedChunks(t, in, strings.ReplaceAll(out, "\r\n", "\n")); n != 2 {
				t.Errorf("%d inserted chunks, want 2:\n%s", n, out)
			}
			if strings.Contains(tc.in, "\r\n") && strings.Count(out, "\n") != strings.Count(out, "\r\n") {
				t.Error("CRLF file got LF lines")
			}
			if strings.Contains(tc.in, "# - {name: x") && !strings.Contains(out, "        # - {name: x, type: VARCHAR}\n    # refunds:") {
				t.Errorf("the inserted table split the last item from its comment:\n%s", out)
			}
			s, err := lint(dir, "t", nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if len(s.Bronze.Tables) != 2 || len(s.BaseSilver.Tables) != 2 {
				t.Errorf("%d bronze, %d silver tables, want 2 and 2:\n%s", len(s.Bronze.Tables), len(s.BaseSilver.Tables), out)
			}
		})
	}
}

// TestIntoRefusesWhatDoesNotLint: a spec that is invalid already is not touched.
func TestIntoRefusesWhatDoesNotLint(t *testing.T) {
	dir := t.TempDir()
	bad := "pipeline: p\nbronze:\n  tables:\n    - name: a\n      colums: []\n"
	if err := os.WriteFile(filepath.Join(dir, spec.PipelineFile), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Tables: []string{"refunds"}, Files: []string{"testdata/refunds.csv"}, Into: dir, Duck: testDuck})
	var errs spec.Errors
	if !errors.As(err, &errs) || fail.Code(err) != fail.BadUsage {
		t.Fatalf("error %v: want the spec's errors, exit 2", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, spec.PipelineFile)); string(got) != bad {
		t.Error("pipeline.yaml changed")
	}
}

// TestScaffoldedTypesConvert: what the scaffold infers from a file of awkward
// values (a column named after a keyword, a day-first date, decimal commas, ISO
// timestamps with either separator, yes/no flags, NDJSON) builds silver with every
// row kept and the values converted as the file meant them.
func TestScaffoldedTypesConvert(t *testing.T) {
	cases := []struct {
		file, query, want string
	}{
		{"testdata/typed.csv", `SELECT id, CAST("order" AS VARCHAR), CAST(price AS VARCHAR), CAST(shipped_at AS VARCHAR), flag FROM silver ORDER BY id`,
			"1 2024-01-31 12.50 2024-02-01 10:00:00 true\n2 2024-02-01 3.00 2024-02-02 11:30:00 false\n3 2024-02-15 0.99 <nil> true"},
		{"testdata/events.ndjson", `SELECT event_id, kind, CAST("at" AS VARCHAR), props FROM silver ORDER BY event_id`,
			"1 view 2024-03-01 10:00:00 {\"page\":\"/\"}\n2 click 2024-03-01 10:00:05 {\"page\":\"/cart\"}\n3 view 2024-03-01 10:01:00 <nil>"},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			res, err := Run(context.Background(), Options{Tables: []string{"things"}, Files: []string{tc.file}, Duck: testDuck})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, spec.PipelineFile), res.YAML, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := lint(dir, "typed", nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, res.YAML)
			}
			lakeDir := runSilver(t, s, []string{"things"}, []string{tc.file})
			if got := silverRows(t, lakeDir, "things", tc.query); got != tc.want {
				t.Errorf("silver rows:\n%s\nwant:\n%s\nspec:\n%s", got, tc.want, res.YAML)
			}
		})
	}
}

// silverRows runs a query over a silver table's files (as "silver"), one row a line.
func silverRows(t *testing.T, lakeDir, table, q string) string {
	t.Helper()
	ctx := context.Background()
	s, err := duck.Open(ctx, testDuck)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	glob := filepath.Join(lakeDir, "silver", table, "*", "*", "*.parquet")
	if err := s.Exec(ctx, "CREATE VIEW silver AS SELECT * FROM read_parquet("+duck.Str(glob)+")"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Conn.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}

// TestScaffoldNewKeysRun runs what the scaffold writes for files that need the
// bronze keys of DESIGN section 10 (csv:, null_values:): the spec lints, bronze
// import reads the files with them, and silver holds NULL where the file said NA.
func TestScaffoldNewKeysRun(t *testing.T) {
	cases := []struct {
		file, query, want string
	}{
		{"testdata/na_tokens.csv", `SELECT id, CAST(amount AS VARCHAR), CAST(ordered_on AS VARCHAR), city, code, paid, score FROM silver ORDER BY id`,
			"1 10.500 2024-01-03 Paris 007 true 3\n2 <nil> 2024-01-04 <nil> 012 false <nil>\n3 7.250 <nil> Berlin 100 true 5\n4 3.000 2024-01-06 Rome 003 <nil> 7\n5 120.125 2024-01-07 Oslo 004 false 9"},
		{"testdata/semicolon.csv", `SELECT order_ref, customer, CAST(amount AS VARCHAR), CAST(ordered AS VARCHAR) FROM silver ORDER BY order_ref`,
			"A-1 Dupont; Marie 12.50 2024-01-31\nA-2 Martin; Paul 7.00 2024-02-01\nA-3 Durand; Léa 19.99 2024-02-15"},
		{"testdata/preamble.csv", `SELECT id, name FROM silver ORDER BY id`, "1 Smith, Anna\n2 Li\n3 O'Neil"},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			res, err := Run(context.Background(), Options{Tables: []string{"things"}, Files: []string{tc.file}, Duck: testDuck})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, spec.PipelineFile), res.YAML, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := lint(dir, "newkeys", nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, res.YAML)
			}
			lakeDir := runSilver(t, s, []string{"things"}, []string{tc.file})
			if got := silverRows(t, lakeDir, "things", tc.query); got != tc.want {
				t.Errorf("silver rows:\n%s\nwant:\n%s\nspec:\n%s", got, tc.want, res.YAML)
			}
		})
	}
}

// TestJaffleSuggestionsTaken: every commented suggestion (accepted_values, checks,
// foreign keys) taken as it stands still lints, and the sample passes it.
func TestJaffleSuggestionsTaken(t *testing.T) {
	tables := []string{"customers", "orders", "payments"}
	var files []string
	for _, tbl := range tables {
		files = append(files, seed(tbl))
	}
	res, err := Run(context.Background(), Options{Tables: tables, Files: files, Duck: testDuck})
	if err != nil {
		t.Fatal(err)
	}
	taken, n := takeSuggestions(string(res.YAML))
	if n != 5 { // status, payment_method, amount, user_id -> customers.id and its foreign_keys line
		t.Errorf("%d suggestions taken, want 5:\n%s", n, taken)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, spec.PipelineFile), []byte(taken), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := lint(dir, "taken", nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, taken)
	}
	o, _ := s.SilverTable("orders")
	if len(o.ForeignKeys) != 1 || o.ForeignKeys[0].References != "customers.id" {
		t.Errorf("orders foreign keys %+v, want user_id -> customers.id", o.ForeignKeys)
	}
	runSilver(t, s, tables, files)
}

// takeSuggestions uncomments what the scaffold suggests: a "suggested:" column
// line replaces the live one below it; commented foreign keys are uncommented.
func takeSuggestions(y string) (string, int) {
	lines := strings.Split(y, "\n")
	var out []string
	n := 0
	uncomment := func(l string) string {
		body := strings.TrimLeft(l, " ")
		return l[:len(l)-len(body)] + strings.TrimPrefix(body, "# ")
	}
	for i := 0; i < len(lines); i++ {
		body := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(body, "# suggested:") && i+2 < len(lines):
			out = append(out, uncomment(lines[i+1]))
			i += 2
			n++
		case body == "# foreign_keys:", strings.HasPrefix(body, "# - {column:"):
			out = append(out, uncomment(lines[i]))
			n++
		default:
			out = append(out, lines[i])
		}
	}
	return strings.Join(out, "\n"), n
}
