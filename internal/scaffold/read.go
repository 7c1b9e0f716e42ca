package scaffold

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/inputfile"
	"github.com/shoplake/lakehouse/internal/spec"
)

// dialect is how a CSV file is written, as DuckDB's sniffer found it. The fields
// are the keys of a bronze table's csv: block (DESIGN section 10).
type dialect struct {
	Delimiter string
	Quote     string
	Escape    string
	Header    bool
	SkipRows  int
	Encoding  string
}

// defaultDialect is what bronze import reads without a csv: block.
var defaultDialect = dialect{Delimiter: ",", Quote: `"`, Escape: `"`, Header: true, Encoding: "utf-8"}

// input is one file to scaffold from.
type input struct {
	name    string // as given
	base    string // file name, for comments (deterministic across folders)
	abs     string
	format  inputfile.Format
	dialect dialect // CSV only
}

// openInput checks a file and detects its format; a missing file is a usage error.
func openInput(name string) (input, error) {
	f, compressed, err := inputfile.Detect(name)
	if err != nil {
		return input{}, fail.Usage(err)
	}
	st, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return input{}, fail.Usage(fmt.Errorf("input file %s does not exist", name))
	}
	if err != nil {
		return input{}, fmt.Errorf("input file %s: %w", name, err)
	}
	if st.IsDir() {
		return input{}, fail.Usage(fmt.Errorf("input file %s is a folder", name))
	}
	if st.Size() == 0 {
		return input{}, fail.Usage(fmt.Errorf("input file %s is empty: nothing to infer from", name))
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return input{}, fmt.Errorf("input file %s: %w", name, err)
	}
	in := input{name: name, base: filepath.Base(name), abs: abs, format: f, dialect: defaultDialect}
	if f == inputfile.CSV && !compressed {
		ok, err := validUTF8(abs)
		if err != nil {
			return input{}, fmt.Errorf("input file %s: %w", name, err)
		}
		if !ok {
			// DuckDB reads latin-1 natively; it is by far the commonest other encoding
			// of exported CSV (spreadsheets, older databases).
			in.dialect.Encoding = "latin-1"
		}
	}
	return in, nil
}

// validUTF8 reports whether the first 16 MiB of a file are UTF-8 (a rune cut at
// the end of the window does not count against it).
func validUTF8(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 16<<20)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	b := buf[:n]
	if n == len(buf) {
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	return utf8.Valid(b), nil
}

// sniff asks DuckDB's CSV sniffer for the file's dialect (over the whole file).
func sniff(ctx context.Context, s *duck.Session, in *input) error {
	opts := ""
	if in.dialect.Encoding != "utf-8" {
		opts = ", encoding = " + duck.Str(in.dialect.Encoding)
	}
	var delim, quote, escape sql.NullString
	var skip sql.NullInt64
	var header sql.NullBool
	q := "SELECT Delimiter, Quote, Escape, SkipRows, HasHeader FROM sniff_csv(" + duck.Str(in.abs) + ", sample_size = -1" + opts + ")"
	if err := s.Conn.QueryRowContext(ctx, q).Scan(&delim, &quote, &escape, &skip, &header); err != nil {
		return readErr(ctx, in.name, err)
	}
	// The sniffer spells a missing quote or escape "(empty)".
	for _, v := range []*sql.NullString{&quote, &escape} {
		if v.String == "(empty)" {
			v.String = ""
		}
	}
	d := &in.dialect
	if delim.String != "" {
		d.Delimiter = delim.String
	}
	// The sniffer reports no quote or escape when the file quotes nothing; the
	// defaults then read it the same.
	if quote.String != "" {
		d.Quote = quote.String
	}
	d.Escape = d.Quote
	if escape.String != "" {
		d.Escape = escape.String
	}
	d.SkipRows = int(skip.Int64)
	d.Header = !header.Valid || header.Bool
	return nil
}

// reader is the FROM item that reads an input as bronze import stores it: CSV and
// JSON values as text, as delivered; Parquet with its own types.
func reader(ctx context.Context, s *duck.Session, in input) (string, error) {
	p := duck.Str(in.abs)
	switch in.format {
	case inputfile.CSV:
		d := in.dialect
		opts := fmt.Sprintf("all_varchar = true, hive_partitioning = false, header = %t, delim = %s, quote = %s, escape = %s, skip = %d",
			d.Header, duck.Str(d.Delimiter), duck.Str(d.Quote), duck.Str(d.Escape), d.SkipRows)
		if d.Encoding != "utf-8" {
			opts += ", encoding = " + duck.Str(d.Encoding)
		}
		return "read_csv(" + p + ", " + opts + ")", nil
	case inputfile.Parquet:
		return inputfile.ParquetReader(in.abs), nil
	}
	from, err := inputfile.JSONReader(ctx, s, in.abs, in.format)
	if err != nil {
		return "", readErr(ctx, in.name, err)
	}
	return from, nil
}

// readErr says which file could not be read; a file DuckDB cannot parse is bad
// data (exit 3), as in bronze import.
func readErr(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fail.Data(fmt.Errorf("read %s: %s", name, strings.Join(strings.Fields(err.Error()), " ")))
}

// checkNames refuses column names that are not plain identifiers: the spec allows
// no others, and bronze import matches a file's header to the spec's columns by
// name (case-insensitively), never by position, so the header itself must change.
func checkNames(in string, cols []duck.Column) error {
	var bad []string
	for _, c := range cols {
		if !spec.IsIdent(c.Name) {
			bad = append(bad, fmt.Sprintf("%q (e.g. %s)", c.Name, suggestIdent(c.Name)))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fail.Usage(fmt.Errorf("input file %s: column name(s) %s are not plain identifiers ([A-Za-z_][A-Za-z0-9_]*, at most %d characters); bronze import matches the spec's columns to the file's header by name, so rename them in the file and scaffold again",
		in, strings.Join(bad, ", "), spec.MaxIdentLen))
}

// suggestIdent turns a header into a snake_case identifier: "Order Date" -> order_date.
func suggestIdent(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
			continue
		}
		under = true
	}
	out := b.String()
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "c_" + out
	}
	if len(out) > spec.MaxIdentLen {
		out = out[:spec.MaxIdentLen]
	}
	return strings.TrimRight(out, "_")
}
