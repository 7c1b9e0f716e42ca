package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// baseYAML is a small valid spec using every section; error cases edit one line of
// it, so the positions below are its line numbers.
const baseYAML = `pipeline: shop
bronze:
  tables:
    - name: customers
      columns:
        - {name: customer_id, type: VARCHAR}
    - name: orders
      columns:
        - {name: order_id, type: VARCHAR}
        - {name: customer_id, type: VARCHAR}
        - {name: total, type: VARCHAR}
        - {name: updated_at, type: VARCHAR}
base_silver:
  tables:
    - name: customers
      source: customers
      primary_key: [customer_id]
      columns:
        - {name: customer_id, type: VARCHAR, not_null: true}
    - name: orders
      source: orders
      primary_key: [order_id]
      dedup: {order_by: [updated_at desc]}
      columns:
        - {name: order_id, type: VARCHAR, not_null: true}
        - {name: customer_id, type: VARCHAR}
        - {name: total, type: "decimal(12, 2)", check: "total >= 0"}
        - {name: updated_at, type: timestamp, expr: "try_strptime(updated_at, '%Y-%m-%d')"}
      foreign_keys:
        - {column: customer_id, references: customers.customer_id}
      thresholds: {max_quarantine_rate: 0.05, max_row_loss: 0.1}
dims:
  - {name: customers, source: customers, max_age: 1d}
enriched:
  transforms:
    - name: ltv
      sql: sql/ltv.sql
      depends_on: [silver.orders, dims.customers]
      checks: {min_rows: 1, not_null: [customer_id], rules: ["ltv >= 0"]}
gold:
  facts:
    - name: fct_orders
      sql: sql/fct_orders.sql
      depends_on: [silver.orders, enriched.ltv]
      partition_by: order_date
  dims:
    - {name: dim_customers, sql: sql/dim_customers.sql, depends_on: [dims.customers_history, gold.fct_orders]}
deploy:
  schedules: {bronze: "0 2 * * *", silver: null}
`

var baseSQL = map[string]string{
	"sql/ltv.sql": `SELECT o.customer_id, sum(o.total) AS ltv
FROM silver.orders AS o
JOIN dims.customers AS c USING (customer_id)
WHERE o.ingestion_dt <= {{ partition }}
GROUP BY 1
`,
	"sql/fct_orders.sql": `-- one row per order; the comment may name enriched.other freely
SELECT o.order_id, CAST(o.order_ts AS DATE) AS order_date, l.ltv
FROM silver.orders o LEFT JOIN "enriched"."ltv" l USING (customer_id)
WHERE o.ingestion_dt = {{ partition }} AND o.note <> 'gold.nothing'
`,
	"sql/dim_customers.sql": `SELECT h.*, f.n
FROM dims.customers_history h
JOIN (SELECT count(*) AS n FROM gold.fct_orders) f ON true
`,
}

const file = "specs/t/pipeline.yaml"

// specFS builds a spec folder from baseYAML with edits (old -> new, each old
// unique in the base) and SQL files overridden by sql (an empty text removes a file).
func specFS(t *testing.T, edits [][2]string, sql map[string]string) fstest.MapFS {
	t.Helper()
	y := baseYAML
	for _, e := range edits {
		if n := strings.Count(y, e[0]); n != 1 {
			t.Fatalf("edit %q matches %d times in baseYAML", e[0], n)
		}
		y = strings.Replace(y, e[0], e[1], 1)
	}
	fsys := fstest.MapFS{PipelineFile: {Data: []byte(y)}}
	for p, s := range baseSQL {
		fsys[p] = &fstest.MapFile{Data: []byte(s)}
	}
	for p, s := range sql {
		if s == "" {
			delete(fsys, p)
			continue
		}
		fsys[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Load error is %T, want spec.Errors: %v", err, err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Error()
	}
	return out
}

func TestLoadBase(t *testing.T) {
	fsys := specFS(t, nil, nil)
	s, err := Load(fsys, "specs/t")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	orders, _ := s.SilverTable("orders")
	if got := orders.Columns[2].Type; got != "DECIMAL(12,2)" {
		t.Errorf("normalised type = %q, want DECIMAL(12,2)", got)
	}
	if got := orders.Columns[3].Type; got != "TIMESTAMP" {
		t.Errorf("normalised type = %q, want TIMESTAMP", got)
	}
	if orders.PartitionKey != DefaultPartitionKey || s.Bronze.PartitionKey != DefaultBronzePartitionKey ||
		s.Enriched.Transforms[0].PartitionKey != DefaultPartitionKey {
		t.Errorf("defaults not applied: silver %q bronze %q enriched %q", orders.PartitionKey, s.Bronze.PartitionKey, s.Enriched.Transforms[0].PartitionKey)
	}
	if len(s.SQL) != 3 || s.SQL["sql/ltv.sql"] != baseSQL["sql/ltv.sql"] {
		t.Errorf("SQL = %v", s.SQL)
	}
	if s.Dir != "specs/t" || s.File != file {
		t.Errorf("Dir, File = %q, %q", s.Dir, s.File)
	}
	// The hash covers the YAML and the SQL files, sorted by path.
	h := sha256.New()
	for _, p := range []string{PipelineFile, "sql/dim_customers.sql", "sql/fct_orders.sql", "sql/ltv.sql"} {
		h.Write([]byte(p))
		h.Write([]byte{0})
		h.Write(fsys[p].Data)
		h.Write([]byte{0})
	}
	if want := hex.EncodeToString(h.Sum(nil)); s.SHA256 != want {
		t.Errorf("SHA256 = %s, want %s", s.SHA256, want)
	}
	if d := s.Dims[0].Age(); d.Hours() != 24 {
		t.Errorf("dim age = %v, want 24h", d)
	}
	if got, want := s.Pos("base_silver.tables[1].columns[2].type"), (Pos{27, 31}); got != want {
		t.Errorf("Pos = %v, want %v", got, want)
	}
	// An absent value falls back to its parent's position.
	if got, want := s.Pos("base_silver.tables[0].dedup.order_by"), (Pos{15, 7}); got != want {
		t.Errorf("Pos of absent value = %v, want %v", got, want)
	}
	if got, want := s.KeyPos("deploy.schedules.silver"), (Pos{49, 36}); got != want {
		t.Errorf("KeyPos = %v, want %v", got, want)
	}
	if e := s.ErrorAt("dims[0].max_age", "too old"); e.Error() != file+":33:51: too old" {
		t.Errorf("ErrorAt = %q", e)
	}
	if sch := s.Deploy.Schedules; sch["silver"] != nil || sch["bronze"] == nil || *sch["bronze"] != "0 2 * * *" {
		t.Errorf("schedules = %v", sch)
	}
}

func TestLoadErrors(t *testing.T) {
	const ident = "is not a valid name: use letters, digits and _, not starting with a digit"
	tests := []struct {
		name  string
		edits [][2]string
		sql   map[string]string
		want  []string
	}{
		// Decoding: unknown keys, wrong kinds, required fields.
		{"unknown field with suggestion",
			[][2]string{{"      primary_key: [order_id]", "      primay_key: [order_id]"}}, nil,
			[]string{`22:7: unknown field "primay_key" (did you mean "primary_key"?)`}},
		{"unknown field",
			[][2]string{{"      partition_by: order_date", "      colour: order_date"}}, nil,
			[]string{`45:7: unknown field "colour"`}},
		{"mapping where a list is expected",
			[][2]string{{"primary_key: [order_id]", "primary_key: {order_id: 1}"}}, nil,
			[]string{`22:20: primary_key: expected a list, got a mapping`}},
		{"not_null not a bool",
			[][2]string{{"{name: order_id, type: VARCHAR, not_null: true}", `{name: order_id, type: VARCHAR, not_null: "yes"}`}}, nil,
			[]string{`25:53: not_null: expected true or false, got "yes"`}},
		{"threshold not a number",
			[][2]string{{"max_row_loss: 0.1}", "max_row_loss: ten}"}}, nil,
			[]string{`31:61: max_row_loss: expected a number, got "ten"`}},
		{"min_rows not an integer",
			[][2]string{{"min_rows: 1,", "min_rows: 1.5,"}}, nil,
			[]string{`39:26: min_rows: expected an integer, got "1.5"`}},
		{"column not a mapping",
			[][2]string{{"    - {name: dim_customers,", "    - dim_customers\n    - {name: dim_c,"}}, nil,
			[]string{`47:7: dims[0]: expected a mapping, got "dim_customers"`}},
		{"duplicate key",
			[][2]string{{"      source: customers", "      name: customers"}}, nil,
			[]string{`15:7: missing required field "source"`, `16:7: duplicate field "name" (first at line 15)`}},
		{"missing required field",
			[][2]string{{"{name: customers, source: customers, max_age: 1d}", "{name: customers, max_age: 1d}"}}, nil,
			[]string{`33:5: missing required field "source"`}},
		{"empty required field",
			[][2]string{{"      source: customers", `      source: ""`}}, nil,
			[]string{`16:15: source must not be empty`}},
		{"unknown schedule layer",
			[][2]string{{"silver: null}", "silvr: null}"}}, nil,
			[]string{`49:36: deploy.schedules: unknown layer "silvr" (did you mean "silver"?): use bronze, silver, dims, enriched or gold`}},

		// Names and types.
		{"pipeline name",
			[][2]string{{"pipeline: shop", `pipeline: "shop-1"`}}, nil,
			[]string{`1:11: pipeline name "shop-1" ` + ident}},
		{"SQL injection through a name",
			[][2]string{{"{name: dim_customers,", `{name: "dim_customers; DROP TABLE x",`}}, nil,
			[]string{`47:14: gold dim name "dim_customers; DROP TABLE x" ` + ident}},
		{"duplicate column",
			[][2]string{{"{name: updated_at, type: VARCHAR}", "{name: total, type: VARCHAR}"}}, nil,
			[]string{`12:18: duplicate column "total" (first at line 11)`}},
		{"unknown type",
			[][2]string{{"{name: order_id, type: VARCHAR}", "{name: order_id, type: VARCHR}"}}, nil,
			[]string{`9:34: bronze table "orders": column "order_id": unknown type "VARCHR" (did you mean "VARCHAR"?): use a DuckDB type such as VARCHAR, BIGINT, DOUBLE, DECIMAL(12,2), BOOLEAN, DATE or TIMESTAMP`}},
		{"decimal precision",
			[][2]string{{`"decimal(12, 2)"`, `"decimal(40, 2)"`}}, nil,
			[]string{`27:31: base_silver table "orders": column "total": type "decimal(40, 2)": DECIMAL precision must be between 1 and 38`}},
		{"decimal scale",
			[][2]string{{`"decimal(12, 2)"`, `"DECIMAL(2,3)"`}}, nil,
			[]string{`27:31: base_silver table "orders": column "total": type "DECIMAL(2,3)": DECIMAL scale must be between 0 and the precision (2)`}},
		{"bronze column with a silver rule",
			[][2]string{{"        - {name: customer_id, type: VARCHAR}\n    - name: orders", "        - {name: customer_id, type: VARCHAR, check: \"x\"}\n    - name: orders"}}, nil,
			[]string{`6:46: bronze table "customers": column "customer_id": check has no effect in bronze; put it on the base_silver column`}},

		// Null tokens and CSV dialects of bronze tables.
		{"null_values mistakes",
			[][2]string{{"    - name: orders\n      columns:", "    - name: orders\n      null_values: [NA, NULL, \" NA\", NA]\n      columns:"}}, nil,
			[]string{
				`8:25: bronze table "orders": null_values[1] is a YAML null (unquoted NULL, null or ~): quote it, e.g. "NULL", or write "" for the empty value`,
				`8:31: bronze table "orders": null value " NA" has leading or trailing spaces: values are trimmed before they are compared, so it would never match; write "NA"`,
				`8:38: bronze table "orders": null value "NA" is listed twice`,
			}},
		{"bronze null_values with a YAML null",
			[][2]string{{"bronze:\n", "bronze:\n  null_values: [~]\n"}}, nil,
			[]string{`3:17: bronze: null_values[0] is a YAML null (unquoted NULL, null or ~): quote it, e.g. "NULL", or write "" for the empty value`}},
		{"csv dialect mistakes",
			[][2]string{{"    - name: orders\n      columns:", "    - name: orders\n      csv: {delimiter: \";;\", escape: \"\\n\", skip_rows: -1, encoding: UTF-8}\n      columns:"}}, nil,
			[]string{
				`8:24: bronze table "orders": csv.delimiter ";;" must be one ASCII character`,
				`8:38: bronze table "orders": csv.escape "\n" must be one ASCII character, or "" for none`,
				`8:55: bronze table "orders": csv.skip_rows must not be negative, got -1`,
				`8:69: bronze table "orders": csv.encoding "UTF-8" is not one DuckDB reads (did you mean "utf-8"?): use utf-8, latin-1, utf-16`,
			}},
		{"csv quote equal to the delimiter",
			[][2]string{{"    - name: orders\n      columns:", "    - name: orders\n      csv: {delimiter: \"|\", quote: \"|\", escape: \"\"}\n      columns:"}}, nil,
			[]string{`8:36: bronze table "orders": csv.quote and csv.delimiter are both "|": they must differ`}},
		{"csv empty delimiter and unknown key",
			[][2]string{{"    - name: orders\n      columns:", "    - name: orders\n      csv: {delimiter: \"\", headr: false}\n      columns:"}}, nil,
			[]string{
				`8:24: bronze table "orders": csv.delimiter is empty: give one character, e.g. ",", ";", "|" or "\t"`,
				`8:28: unknown field "headr" (did you mean "header"?)`,
			}},
		{"csv dialect and null tokens that are fine",
			[][2]string{
				{"bronze:\n", "bronze:\n  null_values: [\"\", NA, \"NULL\"]\n"},
				{"    - name: orders\n      columns:", "    - name: orders\n      null_values: []\n      csv: {delimiter: \"\\t\", quote: \"\", escape: \"\", header: false, skip_rows: 2, encoding: latin-1}\n      columns:"},
			}, nil,
			nil},

		// Base silver references.
		{"source not a bronze table",
			[][2]string{{"      source: orders", "      source: ordrs"}}, nil,
			[]string{`21:15: base_silver table "orders": source "ordrs" is not a bronze table (did you mean "orders"?)`}},
		{"primary key column unknown",
			[][2]string{{"primary_key: [order_id]", "primary_key: [order_ic]"}}, nil,
			[]string{`22:21: base_silver table "orders": primary_key column "order_ic" is not a column of the table (did you mean "order_id"?)`}},
		{"primary key empty",
			[][2]string{{"primary_key: [order_id]", "primary_key: []"}}, nil,
			[]string{`22:20: base_silver table "orders": primary_key is empty: name the column(s) that identify a row`}},
		{"dedup term",
			[][2]string{{"[updated_at desc]", "[updated_at sideways]"}}, nil,
			[]string{`23:26: base_silver table "orders": dedup.order_by term "updated_at sideways": use "column", "column asc" or "column desc"`}},
		{"dedup column unknown",
			[][2]string{{"[updated_at desc]", "[updated DESC]"}}, nil,
			[]string{`23:26: base_silver table "orders": dedup.order_by column "updated" is not a column of the table (did you mean "updated_at"?)`}},
		{"foreign key not table.column",
			[][2]string{{"references: customers.customer_id}", "references: customers}"}}, nil,
			[]string{`30:45: base_silver table "orders": references "customers" must be "table.column" naming a base_silver table and its column`}},
		{"foreign key unknown table",
			[][2]string{{"references: customers.customer_id}", "references: custmers.customer_id}"}}, nil,
			[]string{`30:45: base_silver table "orders": references "custmers.customer_id": "custmers" is not a base_silver table (did you mean "customers"?)`}},
		{"foreign key unknown column",
			[][2]string{{"references: customers.customer_id}", "references: customers.id}"}}, nil,
			[]string{`30:45: base_silver table "orders": references "customers.id": "id" is not a column of "customers"`}},
		{"foreign key to itself",
			[][2]string{{"references: customers.customer_id}", "references: orders.order_id}"}}, nil,
			[]string{`30:45: base_silver table "orders": foreign key "orders.order_id" references the table itself; self-references are not supported`}},
		{"foreign key column unknown",
			[][2]string{{"{column: customer_id,", "{column: cust_id,"}}, nil,
			[]string{`30:20: base_silver table "orders": foreign key column "cust_id" is not a column of the table`}},
		{"foreign key type mismatch",
			[][2]string{{"{name: customer_id, type: VARCHAR, not_null: true}", "{name: customer_id, type: BIGINT, not_null: true}"}}, nil,
			[]string{`30:45: base_silver table "orders": foreign key column "customer_id" is VARCHAR but customers.customer_id is BIGINT: make the types match`}},
		{"foreign key references a column that is not the parent's primary key",
			[][2]string{
				{"        - {name: customer_id, type: VARCHAR, not_null: true}\n    - name: orders", "        - {name: customer_id, type: VARCHAR, not_null: true}\n        - {name: email, type: VARCHAR, expr: \"'x'\"}\n    - name: orders"},
				{"{column: customer_id, references: customers.customer_id}", "{column: customer_id, references: customers.email}"}}, nil,
			[]string{`31:45: base_silver table "orders": references "customers.email": (email) is not the primary key of "customers", which is (customer_id): a foreign key must reference its parent's primary key`}},
		{"foreign key column given a list",
			[][2]string{{"{column: customer_id,", "{column: [customer_id, total],"}}, nil,
			[]string{`30:20: column: a list is unsupported here: for a composite key write columns: [a, b] and references: table.(x, y)`}},
		{"foreign key references given a list",
			[][2]string{{"references: customers.customer_id}", "references: [customers.customer_id]}"}}, nil,
			[]string{`30:45: references: a list is unsupported here: for a composite key write references: table.(x, y)`}},
		{"composite foreign key with fewer referenced columns",
			[][2]string{{"{column: customer_id, references: customers.customer_id}", "{columns: [customer_id, total], references: customers.(customer_id)}"}}, nil,
			[]string{`30:55: base_silver table "orders": foreign key has 2 column(s) (customer_id,total) but references "customers.(customer_id)" names 1: name one parent column per column, in the same order`}},
		{"single column referencing a composite",
			[][2]string{{"references: customers.customer_id}", `references: "customers.(customer_id, x)"}`}}, nil,
			[]string{`30:45: base_silver table "orders": foreign key has 1 column(s) (customer_id) but references "customers.(customer_id, x)" names 2: name one parent column per column, in the same order`}},
		{"composite references malformed",
			[][2]string{{"{column: customer_id, references: customers.customer_id}", "{columns: [customer_id], references: customers.(customer_id}"}}, nil,
			[]string{`30:48: base_silver table "orders": references "customers.(customer_id" must be "table.(column, ...)" naming a base_silver table and its key columns`}},
		{"foreign key with column and columns",
			[][2]string{{"{column: customer_id, references:", "{column: customer_id, columns: [customer_id], references:"}}, nil,
			[]string{`30:42: base_silver table "orders": foreign key has both column and columns: use column for one column, columns for a composite key`}},
		{"foreign key without columns",
			[][2]string{{"{column: customer_id, references:", "{references:"}}, nil,
			[]string{`30:11: base_silver table "orders": foreign key needs column (one column) or columns (a composite key)`}},
		{"on_orphan unsupported",
			[][2]string{{"references: customers.customer_id}", "references: customers.customer_id, on_orphan: drop}"}}, nil,
			[]string{`30:79: base_silver table "orders": on_orphan "drop" is unsupported: use quarantine (the default) or warn`}},
		{"composite foreign key to the primary key, warn",
			[][2]string{{"{column: customer_id, references: customers.customer_id}", "{columns: [customer_id], references: \"customers.( customer_id )\", on_orphan: warn}"}}, nil,
			nil},
		{"threshold out of range",
			[][2]string{{"max_row_loss: 0.1}", "max_row_loss: 1.5}"}}, nil,
			[]string{`31:61: base_silver table "orders": thresholds.max_row_loss must be between 0 and 1, got 1.5`}},
		{"negative rate floor",
			[][2]string{{"max_row_loss: 0.1}", "max_row_loss: 0.1, min_rows_for_rate: -1}"}}, nil,
			[]string{`31:85: base_silver table "orders": thresholds.min_rows_for_rate must not be negative, got -1`}},
		{"rate floor without a rate",
			[][2]string{{"{max_quarantine_rate: 0.05, max_row_loss: 0.1}", "{min_rows_for_rate: 10}"}}, nil,
			[]string{`31:39: base_silver table "orders": thresholds.min_rows_for_rate has no rate to apply to: set max_quarantine_rate or max_row_loss`}},
		{"accepted_values empty",
			[][2]string{{"{name: order_id, type: VARCHAR, not_null: true}", "{name: order_id, type: VARCHAR, accepted_values: []}"}}, nil,
			[]string{`25:60: base_silver table "orders": column "order_id": accepted_values is empty: list the allowed values or remove the key`}},
		{"silver column without bronze column or expr",
			[][2]string{{`{name: total, type: "decimal(12, 2)"`, `{name: amount, type: "decimal(12, 2)"`}}, nil,
			[]string{`27:18: base_silver table "orders": column "amount" has no bronze column of that name in "orders": add an expr that computes it`}},

		// Single expressions.
		{"check with a second statement",
			[][2]string{{`check: "total >= 0"`, `check: "total > 0; DROP TABLE t"`}}, nil,
			[]string{`27:56: base_silver table "orders": column "total": check "total > 0; DROP TABLE t" is not a single SQL expression: it contains ";": an expression cannot hold a statement`}},
		{"check with a semicolon in a string is fine",
			[][2]string{{`check: "total >= 0"`, `check: "total >= 0 OR 'x;y' = 'x;y'"`}}, nil,
			nil},
		{"expr that is a statement",
			[][2]string{{`expr: "try_strptime(updated_at, '%Y-%m-%d')"`, `expr: "SELECT 1"`}}, nil,
			[]string{`28:53: base_silver table "orders": column "updated_at": expr "SELECT 1" is not a single SQL expression: it starts with the statement keyword SELECT; write an expression, not a statement`}},
		{"rule with a comment",
			[][2]string{{`rules: ["ltv >= 0"]`, `rules: ["ltv >= 0 -- hi"]`}}, nil,
			[]string{`39:62: enriched transform "ltv": rule "ltv >= 0 -- hi" is not a single SQL expression: it contains a SQL comment (--)`}},

		// SQL that reaches beyond its data (issue 12: the sandbox refuses it at run time too).
		{"expr reads a file in a subquery",
			[][2]string{{`expr: "try_strptime(updated_at, '%Y-%m-%d')"`, `expr: "(SELECT content FROM read_text('/etc/passwd'))"`}}, nil,
			[]string{`28:53: base_silver table "orders": column "updated_at": expr "(SELECT content FROM read_text('/etc/passwd'))" calls read_text(), which reads files: read data through the layer-qualified names its depends_on lists`}},
		{"check reads the environment",
			[][2]string{{`check: "total >= 0"`, `check: "getenv('HOME') IS NOT NULL"`}}, nil,
			[]string{`27:56: base_silver table "orders": column "total": check "getenv('HOME') IS NOT NULL" calls getenv(), which reads the pod's environment: read data through the layer-qualified names its depends_on lists`}},
		{"rule reads a file by name",
			[][2]string{{`rules: ["ltv >= 0"]`, `rules: ["ltv >= (SELECT count(*) FROM '/var/run/secrets/token.csv')"]`}}, nil,
			[]string{`39:62: enriched transform "ltv": rule "ltv >= (SELECT count(*) FROM '/var/run/secrets/token.csv')" reads the file '/var/run/secrets/token.csv' by name: read data through the layer-qualified names its depends_on lists`}},
		{"sql file globs and copies",
			nil, map[string]string{"sql/ltv.sql": "SELECT o.customer_id, count(*) AS ltv\nFROM silver.orders AS o, glob('/etc/*') AS g\nGROUP BY 1;\nCOPY (SELECT 1) TO '/tmp/x.csv'\n"},
			[]string{
				`specs/t/sql/ltv.sql:2:26: sql file of enriched transform "ltv" calls glob(), which lists files: read data through the layer-qualified names its depends_on lists`,
				`specs/t/sql/ltv.sql:4:1: sql file of enriched transform "ltv" holds a second statement after ";": spec SQL is one query`,
			}},
		{"sql file is an ATTACH",
			nil, map[string]string{"sql/ltv.sql": "ATTACH '/tmp/other.duckdb' AS o\n"},
			[]string{`specs/t/sql/ltv.sql:1:1: sql file of enriched transform "ltv" is not a query: it starts with ATTACH; spec SQL is one query (SELECT or WITH ... SELECT)`}},
		{"a trailing semicolon and function-like words in strings are fine",
			nil, map[string]string{"sql/ltv.sql": "SELECT o.customer_id, sum(o.total) AS ltv, 'read_text(x)' AS note\nFROM silver.orders AS o JOIN dims.customers AS c USING (customer_id)\nGROUP BY 1, 3;\n"},
			nil},

		// Dims.
		{"dim source",
			[][2]string{{"source: customers, max_age", "source: custs, max_age"}}, nil,
			[]string{`33:31: dim "customers": source "custs" is not a base_silver table`}},
		{"dim max_age not a duration",
			[][2]string{{"max_age: 1d}", "max_age: 1 day}"}}, nil,
			[]string{`33:51: dim "customers": max_age "1 day" is not a duration: write e.g. 24h, 90m or 7d`}},
		{"dim max_age not positive",
			[][2]string{{"max_age: 1d}", "max_age: -1h}"}}, nil,
			[]string{`33:51: dim "customers": max_age "-1h" must be positive`}},

		// SQL files and depends_on.
		{"sql path escapes the folder",
			[][2]string{{"sql: sql/ltv.sql", "sql: ../ltv.sql"}}, nil,
			[]string{`37:12: enriched transform "ltv": sql path "../ltv.sql" must be relative and inside the spec folder, without ".." or "./" (e.g. sql/ltv.sql)`}},
		{"sql path absolute",
			[][2]string{{"sql: sql/ltv.sql", "sql: /etc/ltv.sql"}}, nil,
			[]string{`37:12: enriched transform "ltv": sql path "/etc/ltv.sql" must be relative and inside the spec folder, without ".." or "./" (e.g. sql/ltv.sql)`}},
		{"sql file missing",
			nil, map[string]string{"sql/ltv.sql": ""},
			[]string{`37:12: enriched transform "ltv": sql file "sql/ltv.sql" not found in specs/t`}},
		{"depends_on not layer-qualified",
			[][2]string{{"[silver.orders, dims.customers]", "[orders, dims.customers]"}}, nil,
			[]string{
				`38:20: enriched transform "ltv": depends_on "orders" must be layer-qualified: silver.<table>, dims.<dim>, dims.<dim>_history, enriched.<transform>`,
				`specs/t/sql/ltv.sql:2:6: enriched transform "ltv" reads silver.orders, which its depends_on does not list: add it there so the task runs after it`,
			}},
		{"depends_on unknown table",
			[][2]string{{"[silver.orders, dims.customers]", "[silver.ordrs, silver.orders, dims.customers]"}}, nil,
			[]string{`38:20: enriched transform "ltv": depends_on "silver.ordrs": there is no base_silver table "ordrs" (did you mean "orders"?)`}},
		{"depends_on a layer the task cannot read",
			[][2]string{{"[silver.orders, dims.customers]", "[silver.orders, dims.customers, gold.fct_orders]"}}, nil,
			[]string{`38:51: enriched transform "ltv": depends_on "gold.fct_orders": the gold layer is not readable here; use silver.<table>, dims.<dim>, dims.<dim>_history, enriched.<transform>`}},
		{"versions_within not whole days",
			[][2]string{{"dedup: {order_by: [updated_at desc]}", "dedup: {order_by: [updated_at desc], versions_within: 36h}"}}, nil,
			[]string{`23:61: base_silver table "orders": dedup.versions_within: "36h" must be a whole number of days, at least 1d`}},
		{"incremental without columns",
			[][2]string{{`      checks: {min_rows: 1, not_null: [customer_id], rules: ["ltv >= 0"]}`, "      incremental: true\n" + `      checks: {min_rows: 1, not_null: [customer_id], rules: ["ltv >= 0"]}`}}, nil,
			[]string{`39:20: enriched transform "ltv": incremental needs columns (name and type of every output column): the first build reads an empty {{ previous }} of those columns, and every build's output is checked against them`}},
		{"transform column with a silver rule",
			[][2]string{{`      checks: {min_rows: 1, not_null: [customer_id], rules: ["ltv >= 0"]}`, "      columns: [{name: ltv, type: \"DECIMAL(18,2)\", check: \"ltv > 0\"}, {name: ingestion_dt, type: DATE}]\n" + `      checks: {min_rows: 1, not_null: [customer_id], rules: ["ltv >= 0"]}`}}, nil,
			[]string{`39:52: enriched transform "ltv": column "ltv": check has no effect on a transform's columns; use checks (not_null, rules)`, `39:78: enriched transform "ltv": column "ingestion_dt" is the partition key, which every partition gets as DATE: leave it out`}},
		{"previous in a transform that is not incremental",
			nil, map[string]string{"sql/ltv.sql": "SELECT customer_id, ltv\nFROM silver.orders\nJOIN dims.customers USING (customer_id)\nUNION ALL SELECT customer_id, ltv FROM {{ previous }}\n"},
			[]string{`specs/t/sql/ltv.sql:4:40: enriched transform "ltv" reads {{ previous }}, its own partition D-1, but is not incremental: add incremental: true and its columns`}},
		{"latest form of an unknown table",
			[][2]string{{"[silver.orders, dims.customers]", "[silver.orders, dims.customers, silver.ordrs_latest]"}}, nil,
			[]string{`38:51: enriched transform "ltv": depends_on "silver.ordrs_latest": there is no base_silver table "ordrs_latest" (did you mean "orders_latest"?)`}},
		{"depends_on itself",
			[][2]string{{"[dims.customers_history, gold.fct_orders]", "[dims.customers_history, gold.fct_orders, gold.dim_customers]"}}, nil,
			[]string{`47:111: gold dim "dim_customers": depends_on "gold.dim_customers" is the table itself`}},
		{"sql reads a table depends_on does not list",
			nil, map[string]string{"sql/ltv.sql": "SELECT *\nFROM silver.orders\n  JOIN dims.customers USING (customer_id)\n  JOIN Silver.customers USING (customer_id)\n"},
			[]string{`specs/t/sql/ltv.sql:4:8: enriched transform "ltv" reads silver.customers, which its depends_on does not list: add it there so the task runs after it`}},
		// depends_on and foreign key lookbacks.
		{"lookback not in whole days",
			[][2]string{{"[silver.orders, dims.customers]", "[{table: silver.orders, lookback: 1h}, dims.customers]"}}, nil,
			[]string{`38:53: enriched transform "ltv": depends_on "silver.orders": lookback "1h": write whole days or weeks, e.g. 0d, 1d, 90d or 2w`}},
		{"lookback fractional, bare number",
			[][2]string{{"[silver.orders, dims.customers]", "[{table: silver.orders, lookback: 1.5d}, {table: dims.customers, lookback: 3}]"}}, nil,
			[]string{
				`38:53: enriched transform "ltv": depends_on "silver.orders": lookback "1.5d": write whole days or weeks, e.g. 0d, 1d, 90d or 2w`,
				`38:94: enriched transform "ltv": depends_on "dims.customers": lookback "3": write whole days or weeks, e.g. 0d, 1d, 90d or 2w`,
			}},
		{"lookback negative",
			[][2]string{{"[silver.orders, dims.customers]", "[{table: silver.orders, lookback: -1d}, dims.customers]"}}, nil,
			[]string{`38:53: enriched transform "ltv": depends_on "silver.orders": lookback "-1d": write whole days or weeks, e.g. 0d, 1d, 90d or 2w`}},
		{"lookback on a dims snapshot",
			[][2]string{{"[silver.orders, dims.customers]", "[silver.orders, {table: dims.customers, lookback: 1d}]"}}, nil,
			[]string{`38:69: enriched transform "ltv": depends_on "dims.customers": a lookback bounds partitions, and dims.customers is one snapshot (the latest on or before D); drop the lookback, or bound the snapshots of dims.customers_history`}},
		{"lookback misspelt",
			[][2]string{{"[silver.orders, dims.customers]", "[{table: silver.orders, lookbak: 1d}, dims.customers]"}}, nil,
			[]string{`38:43: unknown field "lookbak" (did you mean "lookback"?)`}},
		{"depends_on mapping without a table",
			[][2]string{{"[silver.orders, dims.customers]", "[silver.orders, dims.customers, {lookback: 1d}]"}}, nil,
			[]string{`38:51: missing required field "table"`}},
		{"lookback on a gold table",
			[][2]string{{"[dims.customers_history, gold.fct_orders]", "[{table: dims.customers_history, lookback: 2w}, {table: gold.fct_orders, lookback: 1d}]"}}, nil,
			[]string{`47:152: gold dim "dim_customers": depends_on "gold.fct_orders": a lookback bounds lake partitions; a gold table is read from the warehouse whole`}},
		{"foreign key lookback",
			[][2]string{{"{column: customer_id, references: customers.customer_id}", "{column: customer_id, references: customers.customer_id, lookback: 1 day}"}}, nil,
			[]string{`30:78: base_silver table "orders": foreign key customer_id: lookback "1 day": write whole days or weeks, e.g. 0d, 1d, 90d or 2w`}},
		{"lookback too long",
			[][2]string{{"{column: customer_id, references: customers.customer_id}", "{column: customer_id, references: customers.customer_id, lookback: 99999d}"}}, nil,
			[]string{`30:78: base_silver table "orders": foreign key customer_id: lookback "99999d" is more than 36600 days`}},
		{"task graph cycle",
			[][2]string{{"[silver.orders, enriched.ltv]", "[silver.orders, gold.dim_customers]"}},
			map[string]string{"sql/fct_orders.sql": "SELECT * FROM silver.orders JOIN gold.dim_customers USING (customer_id)\n"},
			[]string{`44:35: task graph has a cycle: gold.build.dim_customers -> gold.build.fct_orders -> gold.build.dim_customers: break it by removing one of these dependencies`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(specFS(t, tt.edits, tt.sql), "specs/t")
			got := errorLines(t, err)
			var want []string
			for _, w := range tt.want {
				if !strings.HasPrefix(w, "specs/") {
					w = file + ":" + w
				}
				want = append(want, w)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestNullValuesDefaults(t *testing.T) {
	for _, tc := range []struct {
		name              string
		edits             [][2]string
		customers, orders []string
	}{
		{"default", nil, []string{""}, []string{""}},
		{"bronze list for every table", [][2]string{{"bronze:\n", "bronze:\n  null_values: [\"\", NA]\n"}}, []string{"", "NA"}, []string{"", "NA"}},
		{"a table's list replaces it", [][2]string{
			{"bronze:\n", "bronze:\n  null_values: [\"\", NA]\n"},
			{"    - name: orders\n      columns:", "    - name: orders\n      null_values: []\n      columns:"},
		}, []string{"", "NA"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(specFS(t, tc.edits, nil), "specs/t")
			if err != nil {
				t.Fatal(err)
			}
			c, _ := s.BronzeTable("customers")
			o, _ := s.BronzeTable("orders")
			if !reflect.DeepEqual(c.NullTokens(), tc.customers) || !reflect.DeepEqual(o.NullTokens(), tc.orders) {
				t.Errorf("null tokens: customers %q, orders %q; want %q, %q", c.NullTokens(), o.NullTokens(), tc.customers, tc.orders)
			}
			if c.CSV != nil || c.CSV.Delim() != ',' || c.CSV.QuoteChar() != '"' || c.CSV.EscapeChar() != '"' || !c.CSV.HasHeader() || c.CSV.EncodingName() != "utf-8" {
				t.Errorf("csv defaults: %+v", c.CSV)
			}
		})
	}
}

func TestLoadReportsEveryErrorAtOnce(t *testing.T) {
	fsys := specFS(t, [][2]string{
		{"      primary_key: [order_id]", "      primay_key: [order_id]"},
		{"      source: orders", "      source: ordrs"},
		{"max_age: 1d}", "max_age: soon}"},
	}, nil)
	_, err := Load(fsys, "specs/t")
	want := []string{
		file + `:21:15: base_silver table "orders": source "ordrs" is not a bronze table (did you mean "orders"?)`,
		file + `:22:7: unknown field "primay_key" (did you mean "primary_key"?)`,
		file + `:33:51: dim "customers": max_age "soon" is not a duration: write e.g. 24h, 90m or 7d`,
	}
	if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := err.Error(), strings.Join(want, "\n"); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLoadRejectsInjectedTableName(t *testing.T) {
	fsys := fstest.MapFS{PipelineFile: {Data: []byte(`pipeline: p
bronze:
  tables:
    - name: "orders; DROP TABLE x"
      columns: [{name: id, type: VARCHAR}]
`)}}
	_, err := Load(fsys, "s")
	want := []string{`s/pipeline.yaml:4:13: bronze table name "orders; DROP TABLE x" is not a valid name: use letters, digits and _, not starting with a digit`}
	if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

func TestLoadFileProblems(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"syntax", "pipeline: p\nbronze:\n  tables: [\n", "s/pipeline.yaml:3:1: invalid YAML: did not find expected node content"},
		{"empty", "# nothing\n", `s/pipeline.yaml: spec is empty: start with "pipeline: <name>"`},
		{"two documents", "pipeline: p\n---\npipeline: q\n", `s/pipeline.yaml:2:1: a spec holds one YAML document`},
		{"not a mapping", "- pipeline\n", `s/pipeline.yaml:1:1: spec: expected a mapping, got a list`},
		{"pipeline missing", "bronze: {}\n", `s/pipeline.yaml:1:1: missing required field "pipeline"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(fstest.MapFS{PipelineFile: {Data: []byte(tt.yaml)}}, "s")
			got := errorLines(t, err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Errorf("errors = %q, want one starting with %q", got, tt.want)
			}
		})
	}
	_, err := Load(fstest.MapFS{}, "s")
	if got := errorLines(t, err); len(got) != 1 || !strings.HasPrefix(got[0], "s/pipeline.yaml: cannot read spec: ") {
		t.Errorf("missing file: %q", got)
	}
}

func TestLoadAnchorsAndMerge(t *testing.T) {
	fsys := fstest.MapFS{PipelineFile: {Data: []byte(`pipeline: p
bronze:
  tables:
    - name: a
      columns: &cols
        - {name: id, type: VARCHAR}
    - name: b
      columns: *cols
base_silver:
  tables:
    - &silver
      name: a
      source: a
      primary_key: [id]
      columns: [{name: id, type: VARCHAR}]
      thresholds: {max_row_loss: 0.5}
    - <<: *silver
      name: b
      source: b
`)}}
	s, err := Load(fsys, "s")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.SilverTable("b")
	if b.Source != "b" || len(b.Columns) != 1 || b.Thresholds.MaxRowLoss == nil || *b.Thresholds.MaxRowLoss != 0.5 {
		t.Errorf("merged table = %+v", b)
	}
	if len(s.Bronze.Tables[1].Columns) != 1 {
		t.Errorf("alias columns = %+v", s.Bronze.Tables[1].Columns)
	}
}

func TestLoadReferenceSpec(t *testing.T) {
	s, err := Load(os.DirFS("../../specs/shop"), "specs/shop")
	if err != nil {
		t.Fatalf("reference spec: %v", err)
	}
	if s.Pipeline != "shop" || len(s.BaseSilver.Tables) == 0 || len(s.SHA256) != 64 {
		t.Errorf("pipeline %q, %d silver tables, sha %q", s.Pipeline, len(s.BaseSilver.Tables), s.SHA256)
	}
	for _, p := range s.sqlPaths() {
		if _, ok := s.SQL[p]; !ok {
			t.Errorf("SQL file %s not loaded", p)
		}
	}
}

func TestLoadRecursiveAlias(t *testing.T) {
	fsys := fstest.MapFS{PipelineFile: {Data: []byte("pipeline: p\nbronze:\n  tables: &t\n    - name: a\n      columns: *t\n")}}
	_, err := Load(fsys, "s")
	want := []string{`s/pipeline.yaml:5:16: columns: alias "t" refers to a value that contains it`}
	if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

func TestLoadMergeLoop(t *testing.T) {
	// A mapping that merges itself twice must neither hang nor blow up.
	fsys := fstest.MapFS{PipelineFile: {Data: []byte("pipeline: p\ndims:\n  - &d {name: a, source: a, max_age: 1h, <<: [*d, *d]}\n")}}
	_, err := Load(fsys, "s")
	want := []string{`s/pipeline.yaml:3:26: dim "a": source "a" is not a base_silver table`}
	if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

func TestLoadLookbacks(t *testing.T) {
	s, err := Load(specFS(t, [][2]string{
		{"[silver.orders, dims.customers]", "[{table: silver.orders, lookback: 1d}, dims.customers]"},
		{"[dims.customers_history, gold.fct_orders]", "[{table: dims.customers_history, lookback: 2w}, gold.fct_orders]"},
		{"{column: customer_id, references: customers.customer_id}", "{column: customer_id, references: customers.customer_id, lookback: 0d}"},
	}, nil), "specs/t")
	if err != nil {
		t.Fatal(err)
	}
	ltv, _ := s.Transform("ltv")
	want := []Dep{
		{Ref: Ref{"silver", "orders"}, Lookback: LookbackDays(1)},
		{Ref: Ref{"dims", "customers"}},
	}
	if got := ltv.Deps(); !reflect.DeepEqual(got, want) {
		t.Errorf("ltv deps = %+v, want %+v", got, want)
	}
	if got := ltv.Refs(); !reflect.DeepEqual(got, []Ref{{"silver", "orders"}, {"dims", "customers"}}) {
		t.Errorf("ltv refs = %v", got)
	}
	dim, _ := s.Mart("dim_customers")
	if got := dim.Deps()[0].Lookback; got != LookbackDays(14) {
		t.Errorf("2w = %v, want 14d", got)
	}
	orders, _ := s.SilverTable("orders")
	if got := orders.ForeignKeys[0].Window(); got != LookbackDays(0) {
		t.Errorf("fk window = %v, want 0d", got)
	}
	// The bare form is unbounded.
	if got := (ForeignKey{}).Window(); got.Bounded {
		t.Errorf("fk without lookback is bounded: %v", got)
	}
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		w       Window
		d, v    string
		want    bool
		since   string
		display string
	}{
		{LookbackDays(1), "2026-03-01", "2026-02-28", true, "2026-02-28", "1d"},
		{LookbackDays(1), "2026-03-01", "2026-02-27", false, "2026-02-28", "1d"},
		{LookbackDays(0), "2026-03-01", "2026-03-01", true, "2026-03-01", "0d"},
		{LookbackDays(0), "2026-03-01", "2026-03-02", false, "2026-03-01", "0d"},
		{LookbackDays(90), "2026-03-01", "2025-12-01", true, "2025-12-01", "90d"},
		{Window{}, "2026-03-01", "2030-01-01", true, "", "unbounded"},
	} {
		if got := tc.w.Contains(tc.d, tc.v); got != tc.want {
			t.Errorf("%v.Contains(%s, %s) = %v", tc.w, tc.d, tc.v, got)
		}
		if got := tc.w.Since(tc.d); got != tc.since {
			t.Errorf("%v.Since(%s) = %s, want %s", tc.w, tc.d, got, tc.since)
		}
		if got := tc.w.String(); got != tc.display {
			t.Errorf("String = %s, want %s", got, tc.display)
		}
	}
	for s, want := range map[string]Window{"": {}, "0d": LookbackDays(0), "7d": LookbackDays(7), "1w": LookbackDays(7)} {
		if got, err := ParseLookback(s); err != nil || got != want {
			t.Errorf("ParseLookback(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"d", "1", "1h", "24h", "1.5d", "-1d", "+1d", "1d12h", "1D", " 1d", "1m"} {
		if _, err := ParseLookback(s); err == nil {
			t.Errorf("ParseLookback(%q) accepted", s)
		}
	}
}
