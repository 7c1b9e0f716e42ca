package bronze

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/spec"
)

// csvSeeds are the CSV files of the repository (the real-data fixtures and the
// jaffle_shop seeds) and the malformed shapes the import refuses; more are in
// testdata/fuzz/FuzzScanCSV and testdata/fuzz/FuzzImportCSV.
func csvSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		[]byte(ordersCSV),
		[]byte(oneOrderCSV),
		[]byte("id,note\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n"),
		[]byte("id,note\r\n1,a\r\n2,\"multi\r\nline\"\r\n"),
		[]byte("\xEF\xBB\xBFid,note\n1,a\n"),
		[]byte("id,note\n1,a,extra\n2\n"),
		[]byte("id,note\n1,\"open\n"),
		[]byte("id,id\n1,2\n"),
		[]byte("id,note\n1,a\x00b\n"),
		[]byte("id,note\r1,a\r"),
		[]byte("id,note\n1,\"a\"x\n"),
		[]byte("id;note\n1;caf\xe9\n"),
		[]byte("\xff\xfei\x00d\x00,\x00n\x00\n\x001\x00,\x00a\x00\n\x00"),
		[]byte(""),
		[]byte("\n\n"),
	}
	for _, glob := range []string{"testdata/*.csv", "../../specs/jaffle_shop/seeds/*.csv"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, b)
		}
	}
	return seeds
}

// fuzzDialect maps fuzzed bytes onto a dialect the spec admits (csv.delimiter,
// quote and escape one printable ASCII character or tab, quote and escape never
// the delimiter; skip_rows small; one of the encodings), or false.
func fuzzDialect(delim, quote, escape byte, header bool, skip, enc uint8) (dialect, bool) {
	ok := func(b byte, none bool) bool { return (b == 0 && none) || b == '\t' || (b >= 0x20 && b <= 0x7e) }
	if !ok(delim, false) || !ok(quote, true) || !ok(escape, true) || quote == delim || escape == delim {
		return dialect{}, false
	}
	encodings := []string{"utf-8", "latin-1", "utf-16"}
	return dialect{delim: delim, quote: quote, escape: escape, header: header, skip: int(skip % 4), encoding: encodings[int(enc)%len(encodings)]}, true
}

// FuzzScanCSV: the pre-scan never panics; it accepts a file or refuses it as data
// (exit 3) with a MalformedError whose lines are "file:line: cause", one line
// each; an accepted file has as many header names as fields, none repeated (case
// aside) and none empty, or, without a header, at least the table's columns.
func FuzzScanCSV(f *testing.F) {
	for _, b := range csvSeeds(f) {
		f.Add(b, byte(','), byte('"'), byte('"'), true, uint8(0), uint8(0), uint8(2))
	}
	f.Add([]byte("a|b\n1|'x|y'\n"), byte('|'), byte('\''), byte('\\'), true, uint8(0), uint8(0), uint8(2))
	f.Add([]byte("junk\nid\tnote\n1\ta\n"), byte('\t'), byte(0), byte(0), true, uint8(1), uint8(1), uint8(2))
	f.Add([]byte("1,a\n2,b\n"), byte(','), byte('"'), byte('"'), false, uint8(0), uint8(0), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, delim, quote, escape byte, header bool, skip, enc, ncols uint8) {
		d, ok := fuzzDialect(delim, quote, escape, header, skip, enc)
		if !ok {
			return
		}
		n := int(ncols%8) + 1
		sc, err := scanReader(bytes.NewReader(data), "in.csv", d, n)
		if err != nil {
			var me *MalformedError
			if fail.Code(err) != fail.BadData || !errors.As(err, &me) {
				t.Fatalf("error %v (exit %d) is not a malformed-file data error", err, fail.Code(err))
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err.Error())
			}
			for _, l := range me.Lines() {
				if !strings.HasPrefix(l, "in.csv:") || strings.Contains(l, "\n") {
					t.Fatalf("bad line %q", l)
				}
			}
			return
		}
		if d.header {
			if len(sc.header) != sc.want {
				t.Fatalf("header %q, records have %d fields", sc.header, sc.want)
			}
			seen := map[string]bool{}
			for _, name := range sc.header {
				k := strings.ToLower(name)
				if name == "" || seen[k] {
					t.Fatalf("header %q accepted", sc.header)
				}
				seen[k] = true
			}
		} else if sc.rows > 0 && sc.want < n {
			// (A file without records has no field count: an empty partition.)
			t.Fatalf("%d fields accepted for %d columns by position", sc.want, n)
		}
	})
}

// FuzzImportCSV checks the pre-scan against DuckDB, which reads the file after
// it with the same dialect: a file the pre-scan accepts, DuckDB reads without an
// error into as many rows as the pre-scan counted, with the header's columns. So
// the line-numbered refusals are the only way a CSV fails its import.
func FuzzImportCSV(f *testing.F) {
	for _, b := range csvSeeds(f) {
		f.Add(b, byte(','), byte('"'), byte('"'), true, uint8(0), uint8(0))
	}
	f.Add([]byte("a|b\n1|'x|y'\n"), byte('|'), byte('\''), byte('\\'), true, uint8(0), uint8(0))
	ctx := context.Background()
	dir := f.TempDir()
	written := 0
	f.Fuzz(func(t *testing.T, data []byte, delim, quote, escape byte, header bool, skip, enc uint8) {
		d, ok := fuzzDialect(delim, quote, escape, header, skip, enc)
		if !ok {
			return
		}
		// A fresh name each time: DuckDB caches what it read of a file by path and
		// modification time, and a rewrite within the clock's tick would look unchanged.
		written++
		p := filepath.Join(dir, fmt.Sprintf("in-%d.csv", written))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
		const ncols = 1
		sc, err := scanCSV(input{name: "in.csv", abs: p}, d, ncols)
		if err != nil {
			return
		}
		names := sc.columnNames([]spec.Column{{Name: "c", Type: "VARCHAR"}}) // the table's one column
		defs := make([]string, len(names))
		for i, n := range names {
			defs[i] = duck.Str(n) + ": 'VARCHAR'"
		}
		q := "SELECT count(*) FROM read_csv(" + duck.Str(p) + ", " + d.options() + ", columns = {" + strings.Join(defs, ", ") + "}, hive_partitioning = false)"
		// A fresh session per input, as an import opens one: with one session for
		// the whole run, an input (234a3e4eb7acf99d) failed in the loop and passed
		// alone, so state one input left in DuckDB changed how it read the next.
		s, err := duck.Open(ctx, duck.Options{MemoryLimit: "256MB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var rows int64
		if err := s.Conn.QueryRowContext(ctx, q).Scan(&rows); err != nil {
			t.Fatalf("the pre-scan accepts %q (dialect %+v), DuckDB refuses it: %v", data, d, err)
		}
		if rows != sc.rows {
			t.Fatalf("the pre-scan counts %d rows in %q (dialect %+v), DuckDB reads %d", sc.rows, data, d, rows)
		}
	})
}
