package bronze

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/inputfile"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// ImportOptions says what `worker bronze import` brings into which partition.
type ImportOptions struct {
	Table     string
	Partition string
	// Files are local paths: .csv (with a header row), .parquet, .ndjson/.jsonl
	// (one JSON object a line) or .json; CSV and JSON files may end in .gz or .zst.
	Files []string
	// Source is recorded in the manifest; default DefaultSource.
	Source string
}

// Import converts local files into a bronze partition: one Parquet file per input
// (part-<import id>-00000.parquet, ...) typed as the spec's bronze columns, each
// uploaded create-only, then the partition's _MANIFEST.json, written last and
// create-only, as the commit point (commit.go). Bronze is immutable: importing
// into a partition that has a manifest is a data conflict (exit 3) unless the
// files would be byte-identical and the partition's files are intact, which is a
// no-op. On any failure, a signal included, the import removes only its own files
// and only when no manifest names them: the partition is complete or absent.
func Import(ctx context.Context, env *tasks.Env, o ImportOptions) (*audit.Record, error) {
	tg, err := resolve(env, o.Table, o.Partition)
	if err != nil {
		// No audit: an unknown table or a bad partition cannot name an audit path.
		return failedRecord(env, spec.TaskBronzeImport, o.Table, o.Partition, err), err
	}
	return env.Run(ctx, spec.TaskBronzeImport, o.Table, o.Partition, func(rec *audit.Record, log *slog.Logger) error {
		im := &importer{env: env, tg: tg, log: log, source: o.Source}
		if im.source == "" {
			im.source = DefaultSource
		}
		res, err := im.run(ctx, o.Files)
		if err != nil {
			err = fmt.Errorf("bronze import %s partition %s: %w", tg.table.Name, tg.value, err)
			log.Error("bronze import failed", "error", oneLine(err.Error()))
			return err
		}
		rec.RowsIn, rec.RowsOut = res.rows, res.rows
		for i, f := range res.files {
			rec.Outputs = append(rec.Outputs, audit.IO{URI: env.Lake.URI(path.Join(tg.dir, f.Path)), Rows: f.Rows})
			if i < len(res.inputs) {
				rec.Inputs = append(rec.Inputs, audit.IO{URI: res.inputs[i], Rows: f.Rows})
			}
		}
		if res.unchanged {
			log.Info("bronze partition already holds these files: nothing to do", "rows", res.rows, "files", len(res.files))
		} else {
			log.Info("bronze partition imported", "rows", res.rows, "files", len(res.files), "manifest", env.Lake.URI(tg.manifestPath()))
		}
		return nil
	})
}

// failedRecord is the audit of a task that could not start (never written: it
// has no valid table or partition to be filed under).
func failedRecord(env *tasks.Env, task, table, partition string, err error) *audit.Record {
	now := env.Clock().Format(time.RFC3339Nano)
	return &audit.Record{RunID: env.RunID, Task: task, Table: table, Partition: partition,
		StartedAt: now, FinishedAt: now, SpecSHA256: env.Spec.SHA256, WorkerVersion: env.Version,
		Status: audit.StatusFailed, ExitCode: fail.Code(err), Error: oneLine(err.Error()),
		Inputs: []audit.IO{}, Outputs: []audit.IO{}}
}

type importer struct {
	env    *tasks.Env
	tg     target
	log    *slog.Logger
	source string
}

type importResult struct {
	rows   int64
	files  []lake.File
	inputs []string // input file URIs, in the order of files
	// unchanged is true when the partition already held identical files.
	unchanged bool
}

// input is one file to import.
type input struct {
	name   string // as given
	abs    string
	format inputfile.Format
}

func (im *importer) run(ctx context.Context, names []string) (importResult, error) {
	var res importResult
	if len(names) == 0 {
		return res, fail.Usage(errors.New("no input files given"))
	}
	inputs := make([]input, len(names))
	for i, n := range names {
		f, _, err := inputfile.Detect(n)
		if err != nil {
			return res, fail.Usage(err)
		}
		st, err := os.Stat(n)
		if errors.Is(err, fs.ErrNotExist) {
			return res, fail.Usage(fmt.Errorf("input file %s does not exist", n))
		}
		if err != nil {
			return res, fmt.Errorf("input file %s: %w", n, err)
		}
		if st.IsDir() {
			return res, fail.Usage(fmt.Errorf("input file %s is a folder", n))
		}
		abs, err := filepath.Abs(n)
		if err != nil {
			return res, fmt.Errorf("input file %s: %w", n, err)
		}
		inputs[i] = input{name: n, abs: abs, format: f}
	}

	s, err := duck.Open(ctx, im.env.Duck)
	if err != nil {
		return res, err
	}
	defer s.Close()
	tmp, err := im.env.TempDir("bronze-import-*")
	if err != nil {
		return res, fmt.Errorf("make scratch folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	types, err := specTypes(ctx, s, im.env, im.tg.table)
	if err != nil {
		return res, err
	}

	// Convert every input before touching the lake: a bad file leaves no trace.
	// The files are named after this import (part-<id>-00000.parquet), so no
	// other import of the partition ever writes one of them.
	id := newImportID()
	locals := make([]string, len(inputs))
	for i, in := range inputs {
		name := fmt.Sprintf("part-%s-%05d.parquet", id, i)
		locals[i] = filepath.Join(tmp, name)
		rows, err := im.convert(ctx, s, in, types, locals[i])
		if err != nil {
			return res, err
		}
		sum, size, err := fileCRC32C(locals[i])
		if err != nil {
			return res, fmt.Errorf("checksum %s: %w", locals[i], err)
		}
		res.files = append(res.files, lake.File{Path: name, Rows: rows, Bytes: size, CRC32C: sum})
		res.inputs = append(res.inputs, fileURI(in.abs))
		res.rows += rows
	}

	if cur, err := im.existing(ctx, res.files); err != nil || cur != nil {
		if cur != nil {
			res.files, res.unchanged = cur.Files, true
		}
		return res, err
	}

	m := lake.Manifest{
		Version:     lake.ManifestVersion,
		Table:       im.tg.table.Name,
		Partition:   map[string]string{im.tg.key: im.tg.value},
		RowCount:    res.rows,
		Files:       res.files,
		Source:      im.source,
		ExtractedAt: im.env.Clock().Format(time.RFC3339),
	}
	for i, c := range im.tg.table.Columns {
		m.Schema = append(m.Schema, lake.Field{Name: c.Name, Type: types[i]})
	}
	same, err := im.commit(ctx, &m, locals)
	if same != nil {
		res.files, res.unchanged = same.Files, true
	}
	return res, err
}

// fileURI names a local input file in audits.
func fileURI(abs string) string { return "file://" + filepath.ToSlash(abs) }

// reader returns the FROM clause item that reads an input. Every value of a CSV or
// JSON file is read as text, as it arrived, so the casts to the spec's types below
// decide what converts (and the raw text of VARCHAR columns is kept). Hive
// partitioning is off: a folder named key=value must not add a column.
func (im *importer) reader(ctx context.Context, s *duck.Session, in input) (string, error) {
	switch in.format {
	case inputfile.CSV:
		return im.csvReader(ctx, s, in)
	case inputfile.Parquet:
		return inputfile.ParquetReader(in.abs), nil
	}
	return inputfile.JSONReader(ctx, s, in.abs, in.format)
}

// csvReader fixes a CSV input's dialect (the table's csv block, else detected),
// pre-scans the file with it, and reads it with exactly that dialect and the
// column names the scan found, every value as text.
func (im *importer) csvReader(ctx context.Context, s *duck.Session, in input) (string, error) {
	t := im.tg.table
	var d dialect
	if t.CSV != nil {
		d = specDialect(t.CSV)
	} else {
		var err error
		if d, err = sniffDialect(ctx, s, in, t.Columns); err != nil {
			return "", err
		}
	}
	sc, err := scanCSV(in, d, len(t.Columns))
	if err != nil {
		return "", err
	}
	names := sc.columnNames(t.Columns)
	defs := make([]string, len(names))
	for i, n := range names {
		defs[i] = duck.Str(n) + ": 'VARCHAR'"
	}
	return "read_csv(" + duck.Str(in.abs) + ", " + d.options() + ", columns = {" + strings.Join(defs, ", ") + "}, hive_partitioning = false)", nil
}

// convert writes one input as Parquet with the spec's columns (cast to the spec's
// types, in the spec's order) followed by any extra columns, and returns its rows.
func (im *importer) convert(ctx context.Context, s *duck.Session, in input, types []string, out string) (int64, error) {
	t := im.tg.table
	readErr := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fail.Data(fmt.Errorf("read %s: %s", in.name, oneLine(err.Error())))
	}
	from, err := im.reader(ctx, s, in)
	if err != nil {
		if fail.Code(err) != fail.Internal {
			return 0, err // already says which file and line, e.g. a malformed CSV
		}
		return 0, readErr(err)
	}
	cols, err := describe(ctx, s, from)
	if err != nil {
		return 0, readErr(err)
	}

	// Match the spec's columns by name; a column spelled with other case still counts.
	src := make([]*duck.Column, len(t.Columns))
	used := make(map[string]bool)
	var missing []string
	for i, c := range t.Columns {
		for j := range cols {
			if cols[j].Name == c.Name {
				src[i] = &cols[j]
			}
		}
		if src[i] == nil {
			for j := range cols {
				if strings.EqualFold(cols[j].Name, c.Name) && !used[cols[j].Name] {
					src[i] = &cols[j]
					break
				}
			}
		}
		if src[i] == nil {
			missing = append(missing, c.Name)
			continue
		}
		used[src[i].Name] = true
	}
	if len(missing) > 0 {
		return 0, fail.Data(fmt.Errorf("file %s lacks column(s) %s that bronze table %s requires", in.name, quoteList(missing), t.Name))
	}

	var sel, checks []string
	var checked []int
	for i, c := range t.Columns {
		expr := duck.Ident(src[i].Name)
		if src[i].Type != types[i] {
			if src[i].Type == "VARCHAR" {
				// Text cast to a typed bronze column: the table's null tokens are
				// missing values, not values that fail to convert. Text columns
				// keep the raw token; silver turns it into NULL.
				expr = nullTokens(expr, t.NullTokens())
			}
			checks = append(checks,
				fmt.Sprintf("count(*) FILTER (WHERE %s IS NOT NULL AND TRY_CAST(%s AS %s) IS NULL)", expr, expr, types[i]),
				fmt.Sprintf("any_value(CAST(%s AS VARCHAR)) FILTER (WHERE %s IS NOT NULL AND TRY_CAST(%s AS %s) IS NULL)", expr, expr, expr, types[i]))
			checked = append(checked, i)
			expr = "CAST(" + expr + " AS " + types[i] + ")"
		}
		sel = append(sel, expr+" AS "+duck.Ident(c.Name))
	}
	for _, c := range cols {
		if !used[c.Name] {
			im.log.Warn("input column is not in the spec: kept in bronze, ignored by silver until the spec names it",
				"file", in.name, "column", c.Name, "type", c.Type)
			sel = append(sel, duck.Ident(c.Name))
		}
	}

	q := "COPY (SELECT " + strings.Join(sel, ", ") + " FROM " + from + ") TO " + duck.Str(out) + " (FORMAT parquet)"
	r, err := s.Conn.ExecContext(ctx, q)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if len(checks) == 0 {
			return 0, readErr(err)
		}
		// Find which column failed to convert, with an example value.
		vals := make([]sql.NullString, len(checks))
		ptrs := make([]any, len(checks))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if qerr := s.Conn.QueryRowContext(ctx, "SELECT "+strings.Join(checks, ", ")+" FROM "+from).Scan(ptrs...); qerr != nil {
			return 0, readErr(qerr)
		}
		for k, i := range checked {
			n, example := vals[2*k], vals[2*k+1]
			if n.Valid && n.String != "0" && example.Valid {
				c := t.Columns[i]
				return 0, fail.Data(fmt.Errorf("file %s column %s: %s value(s) cannot be converted to %s (bronze table %s), e.g. %q",
					in.name, c.Name, n.String, types[i], t.Name, example.String))
			}
		}
		return 0, fmt.Errorf("convert %s: %s", in.name, oneLine(err.Error()))
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("convert %s: %w", in.name, err)
	}
	return n, nil
}

// nullTokens is expr with the values that equal a token after trimming as NULL.
func nullTokens(expr string, tokens []string) string {
	if len(tokens) == 0 {
		return expr
	}
	lits := make([]string, len(tokens))
	for i, t := range tokens {
		lits[i] = duck.Str(t)
	}
	return fmt.Sprintf("(CASE WHEN trim(%s) IN (%s) THEN NULL ELSE %s END)", expr, strings.Join(lits, ", "), expr)
}
