package bronze

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// ordersNDJSON is 3 orders as JSON lines: numbers and nested values arrive as their JSON text.
const ordersNDJSON = `{"order_id": "o1", "customer_id": "c1", "order_ts": "2026-11-20T01:00:00Z", "status": "placed", "total_amount": 10.5, "currency": "USD", "updated_at": "2026-11-20T01:00:00Z"}
{"order_id": "o2", "customer_id": "c2", "order_ts": "2026-11-20T02:00:00Z", "status": "paid", "total_amount": 20, "currency": null, "updated_at": "2026-11-20T02:00:00Z", "meta": {"a": [1, 2]}}
{"order_id": "o3", "customer_id": "c1", "order_ts": "2026-11-20T03:00:00Z", "status": "shipped", "total_amount": "5.25", "currency": "EUR", "updated_at": "2026-11-20T03:00:00Z"}
`

// ordersParquetSQL makes orders with typed columns that the import casts to VARCHAR.
const ordersParquetSQL = `SELECT 'o' || i AS order_id, 'c' || (i % 3) AS customer_id,
	'2026-11-20T01:00:00Z' AS order_ts, 'placed' AS status, CAST(i * 1.5 AS DECIMAL(12,2)) AS total_amount,
	'USD' AS currency, '2026-11-20T01:00:00Z' AS updated_at FROM range(1, 6) t(i)`

func TestImportThenValidate(t *testing.T) {
	tests := []struct {
		name  string
		files func(t *testing.T) []string
		rows  int64
		// query over the first imported file that must return true
		verify string
		// status is the validation report's (warn: an extra column came along)
		status string
	}{
		{
			name:   "csv",
			files:  func(t *testing.T) []string { return []string{writeFile(t, "orders.csv", ordersCSV)} },
			rows:   9,
			verify: "SELECT count(*) FILTER (WHERE currency IS NULL) = 1 AND count(*) FILTER (WHERE total_amount = '7') = 1 FROM %s",
			status: audit.Pass,
		},
		{
			name:   "ndjson",
			files:  func(t *testing.T) []string { return []string{writeFile(t, "orders.ndjson", ordersNDJSON)} },
			rows:   3,
			verify: "SELECT list(total_amount ORDER BY order_id) = ['10.5', '20', '5.25'] AND count(*) FILTER (WHERE currency IS NULL) = 1 AND max(meta) = '{\"a\":[1,2]}' FROM %s",
			status: audit.Warn,
		},
		{
			name:   "parquet",
			files:  func(t *testing.T) []string { return []string{writeParquet(t, ordersParquetSQL)} },
			rows:   5,
			verify: "SELECT max(total_amount) = '7.50' AND typeof(max(total_amount)) = 'VARCHAR' FROM %s",
			status: audit.Pass,
		},
		{
			name: "several files",
			files: func(t *testing.T) []string {
				return []string{writeFile(t, "a.csv", ordersCSV), writeFile(t, "b.jsonl", ordersNDJSON)}
			},
			rows:   12,
			verify: "SELECT count(*) = 9 FROM %s",
			status: audit.Warn,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, shopSpec(t))
			ctx := context.Background()
			files := tc.files(t)
			rec := mustImport(t, env, "orders", day, files...)
			if rec.Status != audit.StatusSuccess || rec.RowsIn != tc.rows || rec.RowsOut != tc.rows || len(rec.Outputs) != len(files) {
				t.Errorf("import audit = %+v, want success with %d rows and %d outputs", rec, tc.rows, len(files))
			}
			stored := readAudit(t, env, spec.TaskBronzeImport, "orders", day)
			if stored.RowsOut != tc.rows || stored.Outputs[0].URI != env.Lake.URI(importedPart(t, env, "orders", day, 0)) {
				t.Errorf("stored import audit = %+v", stored)
			}

			m, _, err := lake.ReadManifest(ctx, env.Lake, manifestPath("orders", day))
			if err != nil {
				t.Fatal(err)
			}
			if m.RowCount != tc.rows || m.Table != "orders" || m.Partition["ingest_dt"] != day || m.Source != DefaultSource ||
				len(m.Files) != len(files) || m.Files[len(files)-1].Path != path.Base(m.Files[len(files)-1].Path) ||
				len(m.Schema) != 7 || m.Schema[0] != (lake.Field{Name: "order_id", Type: "VARCHAR"}) || m.ExtractedAt == "" {
				t.Errorf("manifest = %+v", m)
			}
			part := localPart(t, env, "orders", day, 0)
			if got := queryOne(t, fmt.Sprintf(tc.verify, "read_parquet("+duck.Str(part)+")")); got != true {
				t.Errorf("%s = %v, want true", tc.verify, got)
			}

			vrec, rep, err := Validate(ctx, env.Env, ValidateOptions{Table: "orders", Partition: day})
			if err != nil {
				t.Fatalf("validate: %v", err)
			}
			if rep.Status != tc.status || vrec.Status != audit.StatusSuccess || vrec.RowsIn != tc.rows || len(vrec.Inputs) != len(files) || vrec.Report == "" {
				t.Errorf("validate: report %+v, audit %+v", rep, vrec)
			}
		})
	}
}

func TestImportFailures(t *testing.T) {
	typed := `pipeline: typed
bronze:
  tables:
    - name: orders
      columns:
        - {name: id, type: BIGINT}
        - {name: amount, type: "DECIMAL(12,2)"}
        - {name: note, type: VARCHAR}
`
	tests := []struct {
		name  string
		yaml  string // inline spec; empty means the shop spec
		table string
		part  string
		files func(t *testing.T) []string
		code  int
		wants []string // substrings of the error
	}{
		{
			name:  "missing column",
			table: "orders", part: day,
			files: func(t *testing.T) []string {
				return []string{writeFile(t, "orders.csv", "order_id,customer_id,order_ts,status,total_amount,updated_at\no1,c1,t,placed,1,t\n")}
			},
			code:  fail.BadData,
			wants: []string{"orders.csv", "orders", `"currency"`, day},
		},
		{
			name: "value that does not convert", yaml: typed,
			table: "orders", part: day,
			files: func(t *testing.T) []string {
				return []string{writeFile(t, "typed.csv", "id,amount,note\n1,2.50,a\nabc,3.00,b\n")}
			},
			code:  fail.BadData,
			wants: []string{"typed.csv", "column id", `"abc"`, "BIGINT"},
		},
		{
			name: "decimal that does not convert", yaml: typed,
			table: "orders", part: day,
			files: func(t *testing.T) []string {
				return []string{writeFile(t, "typed.csv", "id,amount,note\n1,2.50,a\n2,lots,b\n")}
			},
			code:  fail.BadData,
			wants: []string{"typed.csv", "column amount", `"lots"`, "DECIMAL(12,2)"},
		},
		{
			name:  "unknown extension",
			table: "orders", part: day,
			files: func(t *testing.T) []string { return []string{writeFile(t, "orders.xlsx", "x")} },
			code:  fail.BadUsage,
			wants: []string{"orders.xlsx", "unknown format"},
		},
		{
			name:  "input file missing",
			table: "orders", part: day,
			files: func(t *testing.T) []string { return []string{filepath.Join(t.TempDir(), "nope.csv")} },
			code:  fail.BadUsage,
			wants: []string{"nope.csv"},
		},
		{
			name:  "no files",
			table: "orders", part: day,
			files: func(t *testing.T) []string { return nil },
			code:  fail.BadUsage,
		},
		{
			name:  "partition escaping the lake",
			table: "orders", part: "../x",
			files: func(t *testing.T) []string { return []string{writeFile(t, "orders.csv", ordersCSV)} },
			code:  fail.BadUsage,
			wants: []string{`"../x"`},
		},
		{
			name:  "partition not a calendar date",
			table: "orders", part: "2026-13-45",
			files: func(t *testing.T) []string { return []string{writeFile(t, "orders.csv", ordersCSV)} },
			code:  fail.BadUsage,
			wants: []string{"2026-13-45"},
		},
		{
			name:  "unknown table",
			table: "invoices", part: day,
			files: func(t *testing.T) []string { return []string{writeFile(t, "orders.csv", ordersCSV)} },
			code:  fail.BadUsage,
			wants: []string{`"invoices"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := shopSpec(t)
			if tc.yaml != "" {
				sp = inlineSpec(t, tc.yaml)
			}
			env := newEnv(t, sp)
			ctx := context.Background()
			rec, err := Import(ctx, env.Env, ImportOptions{Table: tc.table, Partition: tc.part, Files: tc.files(t)})
			if got := fail.Code(err); got != tc.code {
				t.Fatalf("exit code %d (%v), want %d", got, err, tc.code)
			}
			mustContain(t, "error", err.Error(), tc.wants...)
			if rec.Status != audit.StatusFailed || rec.ExitCode != tc.code {
				t.Errorf("audit = %+v", rec)
			}
			// Nothing at all reaches the lake's bronze layer.
			objs, lerr := env.Lake.List(ctx, "bronze/")
			if lerr != nil {
				t.Fatal(lerr)
			}
			if len(objs) != 0 {
				t.Errorf("failed import left %v in bronze", objs)
			}
		})
	}
}

func TestImportTypedCasts(t *testing.T) {
	sp := inlineSpec(t, `pipeline: typed
bronze:
  tables:
    - name: orders
      columns:
        - {name: id, type: BIGINT}
        - {name: amount, type: "DECIMAL(12,2)"}
        - {name: note, type: TEXT}
`)
	env := newEnv(t, sp)
	// Header case differs from the spec and an extra column comes along.
	// A folder named like a hive partition must not add a column.
	dir := filepath.Join(t.TempDir(), "region=eu")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "typed.csv")
	if err := os.WriteFile(csv, []byte("ID,amount,note,extra\n1,2.5,a,x\n2,,b,y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustImport(t, env, "orders", day, csv)
	part := localPart(t, env, "orders", day, 0)
	from := "read_parquet(" + duck.Str(part) + ", hive_partitioning = false)"
	q := "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM " + from + ")"
	if got := queryOne(t, q); got != "id BIGINT, amount DECIMAL(12,2), note VARCHAR, extra VARCHAR" {
		t.Errorf("schema = %v", got)
	}
	if got := queryOne(t, "SELECT sum(id) = 3 AND max(amount) = 2.5 AND count(amount) = 1 FROM "+from); got != true {
		t.Errorf("values did not convert: %v", got)
	}
	mustContain(t, "logs", env.logs.String(), "level=WARN", "column=extra")
	_, rep, err := Validate(context.Background(), env.Env, ValidateOptions{Table: "orders", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if checkStatus(rep, CheckSchemaNewColumns) != audit.Warn || checkStatus(rep, CheckSchemaTypes) != audit.Pass {
		t.Errorf("report = %+v", rep)
	}
}

func TestImportIsImmutable(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t, shopSpec(t))
	csv := writeFile(t, "orders.csv", ordersCSV)
	mustImport(t, env, "orders", day, csv)
	mp := manifestPath("orders", day)
	before, err := lake.ReadAll(ctx, env.Lake, mp)
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		after, err := lake.ReadAll(ctx, env.Lake, mp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Errorf("manifest changed:\n%s\nbecame\n%s", before, after)
		}
	}

	t.Run("identical import is a no-op", func(t *testing.T) {
		copyOf := writeFile(t, "again.csv", ordersCSV)
		rec := mustImport(t, env, "orders", day, copyOf)
		if rec.RowsOut != 9 || len(rec.Outputs) != 1 || rec.Outputs[0].URI != env.Lake.URI(importedPart(t, env, "orders", day, 0)) {
			t.Errorf("audit = %+v, want the partition's file as its output", rec)
		}
		unchanged(t)
		checkOnePartition(t, env.Lake, "orders", day) // the no-op uploaded nothing
	})
	t.Run("different content is refused", func(t *testing.T) {
		other := writeFile(t, "other.csv", ordersHeader+"o1,c1,t,placed,1,USD,t\n")
		_, err := Import(ctx, env.Env, ImportOptions{Table: "orders", Partition: day, Files: []string{other}})
		if fail.Code(err) != fail.BadData {
			t.Fatalf("exit code %d (%v), want 3 (a data conflict)", fail.Code(err), err)
		}
		mustContain(t, "error", err.Error(), "immutable", mp)
		unchanged(t)
		if _, _, err := Validate(ctx, env.Env, ValidateOptions{Table: "orders", Partition: day}); err != nil {
			t.Errorf("the old partition no longer validates: %v", err)
		}
	})
	t.Run("more files are refused", func(t *testing.T) {
		_, err := Import(ctx, env.Env, ImportOptions{Table: "orders", Partition: day, Files: []string{csv, csv}})
		if fail.Code(err) != fail.BadData {
			t.Fatalf("exit code %d (%v), want 3", fail.Code(err), err)
		}
		unchanged(t)
	})
}

// TestImportFailureLeavesNoManifest breaks the upload of the manifest and checks
// that the data files already uploaded are removed again.
func TestImportFailureLeavesNoManifest(t *testing.T) {
	ctx := context.Background()
	local, err := lake.NewLocal(filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnvOn(t, shopSpec(t), &failingLake{Lake: local, failOn: lake.ManifestFile})
	_, err = Import(ctx, env.Env, ImportOptions{Table: "orders", Partition: day, Files: []string{writeFile(t, "orders.csv", ordersCSV)}})
	if err == nil || fail.Code(err) != fail.Internal {
		t.Fatalf("err = %v, want an internal error", err)
	}
	objs, err := local.List(ctx, "bronze/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("failed import left %v", objs)
	}
}

// failingLake fails writes of paths ending in failOn.
type failingLake struct {
	lake.Lake
	failOn string
}

var errInjected = errors.New("injected write failure")

func (f *failingLake) Write(ctx context.Context, p string, r io.Reader, pre lake.Precondition) (lake.ObjectInfo, error) {
	if path.Base(p) == f.failOn {
		return lake.ObjectInfo{}, errInjected
	}
	return f.Lake.Write(ctx, p, r, pre)
}

func TestImportAndValidateOnRemoteLake(t *testing.T) {
	local, err := lake.NewLocal(filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnvOn(t, shopSpec(t), hiddenLake{local})
	if _, ok := env.Lake.(lake.Localizer); ok {
		t.Fatal("the wrapped lake must not be a Localizer")
	}
	mustImport(t, env, "orders", day, writeFile(t, "orders.csv", ordersCSV))
	_, rep, err := Validate(context.Background(), env.Env, ValidateOptions{Table: "orders", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if checkStatus(rep, CheckFilesReadable) != audit.Pass || checkStatus(rep, CheckRowCount) != audit.Pass {
		t.Errorf("report = %+v", rep)
	}
	// Downloads are cleaned up.
	left, err := os.ReadDir(env.WorkDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("work dir keeps %v", left)
	}
}

// TestJaffleOrders imports the jaffle shop's raw_orders.csv (CRLF line ends, a
// header, 99 rows) with typed columns.
func TestJaffleOrders(t *testing.T) {
	csv := jaffleFile(t, "raw_orders.csv")
	sp := inlineSpec(t, `pipeline: jaffle
bronze:
  partition_key: ingest_dt
  tables:
    - name: orders
      columns:
        - {name: id, type: BIGINT}
        - {name: user_id, type: INTEGER}
        - {name: order_date, type: DATE}
        - {name: status, type: VARCHAR}
`)
	env := newEnv(t, sp)
	rec := mustImport(t, env, "orders", "2018-04-09", csv)
	if rec.RowsOut != 99 {
		t.Errorf("imported %d rows, want 99", rec.RowsOut)
	}
	part := localPart(t, env, "orders", "2018-04-09", 0)
	q := "SELECT count(DISTINCT id) = 99 AND min(order_date) = DATE '2018-01-01' AND count(*) FILTER (WHERE status = 'completed') = 67 FROM read_parquet(" + duck.Str(part) + ")"
	if got := queryOne(t, q); got != true {
		t.Errorf("%s = %v", q, got)
	}
	_, rep, err := Validate(context.Background(), env.Env, ValidateOptions{Table: "orders", Partition: "2018-04-09"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != audit.Pass {
		t.Errorf("report = %+v", rep)
	}
}

// jaffleFile is a file of dbt's jaffle_shop seed, vendored with its licence.
func jaffleFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "specs", "jaffle_shop", "seeds", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("jaffle_shop seed: %v", err)
	}
	return p
}
