package catalog

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
)

// Format is how Query prints a result.
type Format string

// Output formats of Query.
const (
	FormatTable Format = "table"
	FormatCSV   Format = "csv"
	FormatJSON  Format = "json"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatTable, FormatCSV, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("--format %q: want table, csv or json", s)
}

// Query runs one read-only statement over the lake's committed data (`worker sql`):
// it renders the statement's templates for the catalog's partition ({{ partition }}
// and the macros), binds every name of the catalog in a fresh DuckDB session, and
// prints the result to w. Anything but a single SELECT (FROM, WITH, DESCRIBE,
// SHOW, SUMMARIZE ...) is refused; a statement DuckDB rejects is a usage error.
func (c *Catalog) Query(ctx context.Context, o duck.Options, q string, f Format, w io.Writer) error {
	q, err := Render("query", q, DuckDB, c.Partition)
	if err != nil {
		return fail.Usage(err)
	}
	q = strings.TrimRight(strings.TrimSpace(q), "; \t\r\n")
	if q == "" {
		return fail.Usage(errors.New("sql: the query is empty"))
	}
	// Scratch space for DuckDB spills and for copies of a remote lake's files.
	work, err := os.MkdirTemp(c.WorkDir, "worker-sql-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if o.TempDir == "" {
		o.TempDir = filepath.Join(work, "duckdb-tmp")
	}
	cat := *c
	cat.WorkDir = work
	s, err := duck.Open(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := cat.BindAll(ctx, s); err != nil {
		return err
	}
	if err := CheckSelect(ctx, s, q); err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	return run(ctx, s, q, f, w)
}

// CheckSelect prepares q in the session (its names bound) without running it: q
// must be exactly one statement, and a SELECT (FROM, WITH, DESCRIBE, SHOW and
// SUMMARIZE are SELECTs too), so neither a slip in spec SQL nor a query typed at
// `worker sql` can change anything.
func CheckSelect(ctx context.Context, s *duck.Session, q string) error {
	return s.Conn.Raw(func(dc any) error {
		conn, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		// Prepare (unlike PrepareContext) refuses several statements instead of
		// running all but the last.
		st, err := conn.Prepare(q)
		if err != nil {
			if strings.Contains(err.Error(), "multi-statement") {
				return fail.Usage(errors.New("give exactly one statement"))
			}
			return SQLError(err)
		}
		defer st.Close()
		typ, err := st.(*duckdb.Stmt).StatementType()
		if err != nil {
			return err
		}
		if typ != duckdb.STATEMENT_TYPE_SELECT {
			return fail.Usage(errors.New("only a read-only query may run here (SELECT, FROM, WITH, DESCRIBE, SHOW, SUMMARIZE); the lake changes only through the pipeline's tasks"))
		}
		return nil
	})
}

// SQLError classifies an error DuckDB returned for spec or user SQL: a statement
// DuckDB cannot parse or bind (unknown column or table, bad syntax, wrong types) is
// a usage error (exit 2: fix the SQL, a retry will not help); anything else
// (memory, I/O) stays an error of the worker (exit 1).
func SQLError(err error) error {
	var de *duckdb.Error
	if errors.As(err, &de) {
		switch de.Type {
		case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax, duckdb.ErrorTypeBinder, duckdb.ErrorTypeCatalog,
			duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeInvalidType, duckdb.ErrorTypeNotImplemented:
			return fail.Usage(err)
		}
	}
	return err
}

// run executes q and prints its rows. Values are rendered by DuckDB itself (CAST
// to VARCHAR, to_json), so every type prints as DuckDB shows it.
func run(ctx context.Context, s *duck.Session, q string, f Format, w io.Writer) error {
	wrapped := "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (\n" + q + "\n) AS _q"
	if f == FormatJSON {
		wrapped = "SELECT CAST(to_json(_q) AS VARCHAR) FROM (\n" + q + "\n) AS _q"
	}
	rows, err := s.Conn.QueryContext(ctx, wrapped)
	if err != nil {
		return fmt.Errorf("sql: %w", SQLError(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var data [][]*string
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		data = append(data, vals)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	switch f {
	case FormatJSON:
		return writeJSON(w, data)
	case FormatCSV:
		return writeCSV(w, cols, data)
	default:
		return writeTable(w, cols, data)
	}
}

func writeJSON(w io.Writer, data [][]*string) error {
	var b strings.Builder
	b.WriteString("[")
	for i, r := range data {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		b.WriteString(*r[0])
	}
	if len(data) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCSV prints a header and the rows; NULL is an empty field.
func writeCSV(w io.Writer, cols []string, data [][]*string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for _, r := range data {
		for i, v := range r {
			rec[i] = ""
			if v != nil {
				rec[i] = *v
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeTable prints an aligned table: header, rule, rows (NULL shown as NULL), count.
func writeTable(w io.Writer, cols []string, data [][]*string) error {
	text := func(v *string) string {
		if v == nil {
			return "NULL"
		}
		return strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(*v)
	}
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = utf8.RuneCountInString(c)
	}
	for _, r := range data {
		for i, v := range r {
			width[i] = max(width[i], utf8.RuneCountInString(text(v)))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
			}
		}
		b.WriteString("\n")
	}
	line(cols)
	rule := make([]string, len(cols))
	for i := range cols {
		rule[i] = strings.Repeat("-", width[i])
	}
	line(rule)
	cells := make([]string, len(cols))
	for _, r := range data {
		for i, v := range r {
			cells[i] = text(v)
		}
		line(cells)
	}
	if len(data) == 1 {
		b.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(&b, "(%d rows)\n", len(data))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
