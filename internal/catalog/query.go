package catalog

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
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

// QueryOptions say how Query prints its answer and what it reads besides the lake.
type QueryOptions struct {
	Format Format
	// Warehouse is the embedded DuckDB warehouse file, attached read-only: its
	// schemas that are not lake layers (gold, ops) read as gold.<mart> and
	// ops.<table>, and every table as warehouse.<schema>.<table>. Empty: none.
	Warehouse string
	// NoWarehouse says why gold cannot be read (a BigQuery warehouse, a gs:// lake
	// without --warehouse-path): the error of a query that names gold or ops.
	NoWarehouse string
	// Notes receives notes on an empty answer (stderr); nil: none.
	Notes io.Writer
	// Log reports waits on the warehouse's lock; nil: discard.
	Log *slog.Logger
}

// WarehouseAlias is the name the attached warehouse is read by in `worker sql`.
const WarehouseAlias = "warehouse"

// warehouseLockWait bounds how long Query waits for a gold task to release the
// warehouse file (DuckDB lets no reader in while a process writes it).
const warehouseLockWait = 2 * time.Minute

// Query runs one read-only statement over the lake's committed data (`worker sql`):
// it renders the statement's templates for the catalog's partition ({{ partition }}
// and the macros), binds every name of the catalog in a fresh DuckDB session, and
// prints the result to w. Anything but a single SELECT (FROM, WITH, DESCRIBE,
// SHOW, SUMMARIZE ...) is refused; a statement DuckDB rejects is a usage error.
func (c *Catalog) Query(ctx context.Context, o duck.Options, q string, f Format, w io.Writer) error {
	return c.QueryWith(ctx, o, q, w, QueryOptions{Format: f})
}

// QueryWith is Query reading the warehouse's gold too, and explaining an empty
// answer: when q returns no row and names a lake table with no committed partition
// (on or before D when the catalog's partition was given), a note on opt.Notes says
// so and names the runs that staged one.
func (c *Catalog) QueryWith(ctx context.Context, o duck.Options, q string, w io.Writer, opt QueryOptions) error {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	q, err := Render("query", q, sqltext.DuckDB{}, c.Partition)
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
	if err := cat.LoadRun(ctx); err != nil {
		return fmt.Errorf("sql --run: %w", err)
	}
	s, err := duck.Open(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	binds, err := cat.BindAll(ctx, s)
	if err != nil {
		return err
	}
	refs := tableRefs(ctx, s, q)
	gold, err := cat.attachWarehouse(ctx, s, refs, opt)
	if err != nil {
		return err
	}
	if err := CheckSelect(ctx, s, q); err != nil {
		if gold != nil {
			err = gold(err)
		}
		return fmt.Errorf("sql: %w", cat.explainUnbound(ctx, binds, refs, err))
	}
	n, err := run(ctx, s, q, opt.Format, w)
	if err != nil || n > 0 || opt.Notes == nil {
		return err
	}
	return cat.noteEmpty(ctx, opt.Notes, binds, refs)
}

// attachWarehouse attaches opt.Warehouse read-only when q names a table outside
// the lake's layers, and binds its gold and ops tables. It returns how to explain
// a failing query that names gold or ops but cannot read them: nil when q names
// none.
func (c *Catalog) attachWarehouse(ctx context.Context, s *duck.Session, refs []tableRef, opt QueryOptions) (func(error) error, error) {
	var wanted []tableRef
	for _, r := range refs {
		if r.catalog == "" && !lakeLayers[r.schema] && !systemSchemas[r.schema] || r.catalog == WarehouseAlias {
			wanted = append(wanted, r)
		}
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	explain := func(why string) func(error) error {
		return func(err error) error {
			return fail.Usage(fmt.Errorf("the query names %s: %s (%w)", wanted[0], why, err))
		}
	}
	switch {
	case opt.Warehouse == "":
		why := opt.NoWarehouse
		if why == "" {
			why = "no warehouse is configured"
		}
		return explain(why), nil
	case !fileExists(opt.Warehouse):
		return explain(fmt.Sprintf("the warehouse %s does not exist yet: `worker gold load` and `worker gold build` create it", opt.Warehouse)), nil
	}
	if err := attach(ctx, s, opt); err != nil {
		return nil, err
	}
	tables, err := warehouseTables(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("sql: read the tables of warehouse %s: %w", opt.Warehouse, err)
	}
	for _, t := range tables {
		if lakeLayers[t.schema] || systemSchemas[t.schema] {
			continue // lake layers bind to the lake; the warehouse's copies read as warehouse.<layer>.<table>
		}
		view := fmt.Sprintf("CREATE OR REPLACE VIEW %s.%s AS SELECT * FROM %s.%s.%s", duck.Ident(t.schema), duck.Ident(t.table),
			duck.Ident(WarehouseAlias), duck.Ident(t.schema), duck.Ident(t.table))
		if err := s.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+duck.Ident(t.schema), view); err != nil {
			return nil, fmt.Errorf("sql: bind %s.%s of warehouse %s: %w", t.schema, t.table, opt.Warehouse, err)
		}
	}
	return func(err error) error {
		for _, r := range wanted {
			if r.catalog != "" || slices.Contains(tables, tableRef{schema: r.schema, table: r.table}) {
				continue
			}
			hint := "no task writes it"
			switch _, ok := c.Spec.Mart(r.table); {
			case r.schema == spec.LayerGold && ok:
				hint = fmt.Sprintf("build it with `worker gold build --mart %s --partition D`", r.table)
			case r.schema == spec.LayerGold:
				hint = "the spec has no such mart"
			case r.schema == "ops":
				hint = "`worker gold audit --partition D` loads the audits into ops.ops_task_audit"
			}
			return fail.Usage(fmt.Errorf("%s is not in the warehouse %s: %s (%w)", r, opt.Warehouse, hint, err))
		}
		return err
	}, nil
}

// attach attaches the warehouse file read-only, waiting while a gold task holds
// its write lock. A copy of the file would not wait, but a copy taken while DuckDB
// checkpoints can be torn; the lock is the only consistent view.
func attach(ctx context.Context, s *duck.Session, opt QueryOptions) error {
	q := fmt.Sprintf("ATTACH %s AS %s (READ_ONLY)", duck.Str(opt.Warehouse), duck.Ident(WarehouseAlias))
	deadline := time.Now().Add(warehouseLockWait)
	delay := 100 * time.Millisecond
	for {
		err := s.Exec(ctx, q)
		if err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), "lock") || time.Now().After(deadline) {
			return fmt.Errorf("sql: attach warehouse %s read-only: %w", opt.Warehouse, err)
		}
		opt.Log.Info("warehouse file is locked by a gold task; waiting", "path", opt.Warehouse)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// warehouseTables lists the tables and views of the attached warehouse.
func warehouseTables(ctx context.Context, s *duck.Session) ([]tableRef, error) {
	rows, err := s.Conn.QueryContext(ctx, `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?
		UNION SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal ORDER BY 1, 2`,
		WarehouseAlias, WarehouseAlias)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tableRef
	for rows.Next() {
		var t tableRef
		if err := rows.Scan(&t.schema, &t.table); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// lakeLayers are the schemas the catalog binds to lake data.
var lakeLayers = map[string]bool{lake.Bronze: true, lake.Silver: true, lake.Quarantine: true, lake.Dims: true, lake.Enriched: true}

// systemSchemas are DuckDB's own schemas, read from the session, not the warehouse.
var systemSchemas = map[string]bool{"main": true, "temp": true, "information_schema": true, "pg_catalog": true}

// tableRef is a table a query names: [catalog.]schema.table.
type tableRef struct {
	catalog, schema, table string
}

func (r tableRef) String() string {
	if r.catalog != "" {
		return r.catalog + "." + r.schema + "." + r.table
	}
	return r.schema + "." + r.table
}

// tableRefs lists the schema-qualified tables q names, from DuckDB's own parse
// tree (json_serialize_sql), so names in strings or comments do not count. A
// statement the serializer does not take names none.
func tableRefs(ctx context.Context, s *duck.Session, q string) []tableRef {
	var text string
	if err := s.Conn.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(CAST(? AS VARCHAR)) AS VARCHAR)", q).Scan(&text); err != nil {
		return nil
	}
	var tree any
	if err := json.Unmarshal([]byte(text), &tree); err != nil {
		return nil
	}
	var out []tableRef
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "BASE_TABLE" {
				r := tableRef{catalog: str(x["catalog_name"]), schema: str(x["schema_name"]), table: str(x["table_name"])}
				if r.schema != "" && r.table != "" && !slices.Contains(out, r) {
					out = append(out, r)
				}
			}
			for _, k := range sortedKeys(x) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(tree)
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// noteEmpty writes, for each lake table q names whose binding holds no committed
// partition (on or before D when the partition was given), why the answer is empty
// and which runs staged that table, newest first.
func (c *Catalog) noteEmpty(ctx context.Context, notes io.Writer, binds []Binding, refs []tableRef) error {
	var staged []lake.StagedPartition
	listed := false
	for _, r := range refs {
		if r.catalog != "" || !lakeLayers[r.schema] {
			continue
		}
		i := slices.IndexFunc(binds, func(b Binding) bool { return b.Ref.Layer == r.schema && b.Ref.Name == r.table })
		if i < 0 {
			continue
		}
		b := binds[i]
		if c.hasData(b) {
			continue
		}
		src, err := c.resolve(b.Ref)
		if err != nil {
			continue
		}
		if !listed {
			listed = true
			if staged, err = lake.StagedPartitions(ctx, c.Lake, ""); err != nil {
				return fmt.Errorf("sql: list staged partitions: %w", err)
			}
		}
		if _, err := fmt.Fprintf(notes, "note: %s has %s%s\n", b.Ref, c.nothing(), stagedHint(staged, src, c)); err != nil {
			return err
		}
	}
	return nil
}

// nothing says what a table without data lacks, for notes and errors.
func (c *Catalog) nothing() string {
	what := "no committed partition"
	if c.PartitionGiven {
		what += " on or before " + c.Partition
	}
	switch {
	case c.Run != "" && c.RunOnlyPartition:
		what += ", nor did run " + c.Run + " stage partition " + c.Partition
	case c.Run != "":
		what += ", nor did run " + c.Run + " stage one"
	}
	return what
}

// stagedHint names the newest other run that staged src (on or before D when the
// partition was given), as " (run R staged partition V: use --run R)"; "" if none.
func stagedHint(staged []lake.StagedPartition, src source, c *Catalog) string {
	var runs []lake.StagedPartition
	for _, p := range staged {
		if p.Layer == src.layer && p.Table == src.table && p.Key == src.key && p.Run != c.Run &&
			(!c.PartitionGiven || p.Value <= c.Partition) {
			runs = append(runs, p)
		}
	}
	if len(runs) == 0 {
		return ""
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Updated.After(runs[j].Updated) })
	p := runs[0]
	hint := fmt.Sprintf(" (run %s staged partition %s: use --run %s", p.Run, p.Value, p.Run)
	if others := distinctRuns(runs) - 1; others > 0 {
		hint += fmt.Sprintf("; %d other run(s) staged it too", others)
	}
	return hint + ")"
}

// explainUnbound turns the error of a query naming an enriched transform that is
// in the spec but was not bound (nothing committed, so no columns) into one that
// says so and names a run that staged it.
func (c *Catalog) explainUnbound(ctx context.Context, binds []Binding, refs []tableRef, err error) error {
	for _, r := range refs {
		if r.catalog != "" || !lakeLayers[r.schema] {
			continue
		}
		ref := spec.Ref{Layer: r.schema, Name: r.table}
		if !slices.Contains(c.Names(), ref) || slices.ContainsFunc(binds, func(b Binding) bool { return b.Ref == ref }) {
			continue
		}
		src, rerr := c.resolve(ref)
		if rerr != nil {
			continue
		}
		staged, lerr := lake.StagedPartitions(ctx, c.Lake, "")
		if lerr != nil {
			staged = nil
		}
		return fail.Usage(fmt.Errorf("%s has %s, so its columns are unknown%s (%w)", ref, c.nothing(), stagedHint(staged, src, c), err))
	}
	return err
}

// hasData reports whether a binding reads a partition: any partition, or with
// the partition given one on or before D.
func (c *Catalog) hasData(b Binding) bool {
	for _, v := range b.Values() {
		if !c.PartitionGiven || v <= c.Partition {
			return true
		}
	}
	return false
}

func distinctRuns(ps []lake.StagedPartition) int {
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p.Run] = true
	}
	return len(seen)
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
// a usage error (exit 2: fix the SQL, a retry will not help), and so is SQL the
// session's sandbox refused (a file outside the task's inputs, an extension, a
// setting: duck.Session.Sandbox); anything else (memory, I/O) stays an error of
// the worker (exit 1).
func SQLError(err error) error {
	var de *duckdb.Error
	if errors.As(err, &de) {
		if duck.IsSandboxRefusal(err) {
			return fail.Usage(duck.ExplainSandboxRefusal(err))
		}
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
// It returns the number of rows.
func run(ctx context.Context, s *duck.Session, q string, f Format, w io.Writer) (int, error) {
	wrapped := "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (\n" + q + "\n) AS _q"
	if f == FormatJSON {
		wrapped = "SELECT CAST(to_json(_q) AS VARCHAR) FROM (\n" + q + "\n) AS _q"
	}
	rows, err := s.Conn.QueryContext(ctx, wrapped)
	if err != nil {
		return 0, fmt.Errorf("sql: %w", SQLError(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	var data [][]*string
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		data = append(data, vals)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sql: %w", err)
	}
	switch f {
	case FormatJSON:
		err = writeJSON(w, data)
	case FormatCSV:
		err = writeCSV(w, cols, data)
	default:
		err = writeTable(w, cols, data)
	}
	return len(data), err
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
