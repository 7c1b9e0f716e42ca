package silver

import (
	"fmt"
	"strings"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
)

// Internal column names of the classification table (besides the quarantine's
// lake.ColSourceFile and lake.ColSourceRow, which it carries through). Spec
// identifiers cannot start with "__", so they never collide with a spec column.
const (
	// colOrd orders rows as they arrived: file position in the manifest, then row
	// number, in one BIGINT (file << 40 | row), cheaper to sort than the pair.
	colOrd    = "_source_ord"
	colReason = "_reason"
	srcPrefix = "__src__"
	fkKey     = "__fk_key"
)

// sourceFile is one bronze file to read, with the name recorded in quarantine.
type sourceFile struct {
	Local string // path DuckDB reads
	Name  string // path relative to the bronze partition (part-00000.parquet)
	Rows  int64  // rows the bronze manifest lists for it
	// Skip names the session variable holding the file's fate bits (fateBits),
	// "" when no row of the file is in fate: silverSelect reads the rows whose bit is 0.
	Skip string
}

// plan renders the SQL of one silver build. It is pure, so tests can read it.
type plan struct {
	table  *spec.SilverTable
	bronze *spec.BronzeTable
}

// classify creates the temp table "classified": one narrow row per bronze row,
// enough to decide its fate and nothing more: its position (colOrd), the typed
// primary key and dedup order_by columns, the first row-rule or FK reason (NULL if
// the row passes), and per foreign key the key text of a row whose parent key is
// missing (orphanCol, NULL otherwise). fkTables[i] is the temp table of parent keys of foreign
// key i. The typed silver rows are not kept: silverSelect computes them again in
// the one streaming COPY, which is cheaper than materialising every row here.
func (p plan) classify(files []sourceFile, fkTables []string) string {
	out := []string{"t." + colOrd}
	for _, c := range p.fateColumns() {
		out = append(out, "t."+duck.Ident(c))
	}
	out = append(out, p.reasonCase()+" AS "+colReason)
	for i, fk := range p.table.ForeignKeys {
		out = append(out, fmt.Sprintf("CASE WHEN %s AND fk%d.%s IS NULL THEN %s END AS %s",
			fkNotNull(fk, "t."), i, fkKey, keyText(fk.ChildColumns(), "t."), orphanCol(i)))
	}
	var q strings.Builder
	fmt.Fprintf(&q, "CREATE TEMP TABLE classified AS SELECT %s\nFROM %s AS t", strings.Join(out, ", "), p.typed(files, true))
	for i, fk := range p.table.ForeignKeys {
		fmt.Fprintf(&q, "\nLEFT JOIN %s AS fk%d ON %s", fkTables[i], i, fkJoin(fk, "t.", fmt.Sprintf("fk%d.", i)))
	}
	return q.String()
}

// fateColumns are the typed columns classified keeps: the primary key and the
// dedup order_by columns, once each, in table order.
func (p plan) fateColumns() []string {
	need := map[string]bool{}
	for _, k := range p.table.PrimaryKey {
		need[k] = true
	}
	if p.table.Dedup != nil {
		for _, term := range p.table.Dedup.OrderBy {
			need[strings.Fields(term)[0]] = true
		}
	}
	var out []string
	for _, c := range p.table.Columns {
		if need[c.Name] {
			out = append(out, c.Name)
		}
	}
	return out
}

// orphanCol names classified's key text of foreign key i's orphans.
func orphanCol(i int) string { return fmt.Sprintf("_orphan%d", i) }

// typed is the bronze rows as a subquery: colOrd and the typed silver columns by
// name; with sources, also the cleaned source of every column whose cast can fail
// and of the primary key (the reasons' inputs, never stored).
func (p plan) typed(files []sourceFile, sources bool) string {
	// cleaned: bronze names carry cleaned values (text trimmed, the table's null
	// tokens -> NULL), so exprs, casts and rules see clean input and a token is
	// never a cast failure.
	cleaned := []string{colOrd}
	for _, c := range p.bronze.Columns {
		id := duck.Ident(c.Name)
		if isText(c.Type) {
			cleaned = append(cleaned, cleanText(id, p.bronze.NullTokens())+" AS "+id)
		} else {
			// A typed bronze column (from typed Parquet, or cast by bronze import,
			// which applied the tokens already) holds values, not raw text: a token
			// such as "0" must not erase a real 0, so tokens do not apply.
			cleaned = append(cleaned, id)
		}
	}

	typed := []string{colOrd}
	if sources {
		for _, c := range p.table.Columns {
			if p.castCanFail(c) {
				typed = append(typed, duck.Ident(c.Name)+" AS "+duck.Ident(srcPrefix+c.Name))
			}
		}
		for _, k := range p.table.PrimaryKey {
			if c, _ := p.table.Column(k); c != nil && !p.castCanFail(*c) {
				if _, ok := p.bronze.Column(k); ok {
					typed = append(typed, duck.Ident(k)+" AS "+duck.Ident(srcPrefix+k))
				}
			}
		}
	}
	for _, c := range p.table.Columns {
		typed = append(typed, p.typedExpr(c)+" AS "+duck.Ident(c.Name))
	}
	return fmt.Sprintf("(SELECT %s\n  FROM (SELECT %s\n    FROM (%s)))",
		strings.Join(typed, ", "), strings.Join(cleaned, ", "), p.scan(files))
}

// cleanText trims a text column and turns the null tokens into NULL, with one
// comparison per row (NULLIF, or one IN list), never a pattern match.
func cleanText(id string, tokens []string) string {
	switch len(tokens) {
	case 0:
		return "trim(" + id + ")"
	case 1:
		return fmt.Sprintf("NULLIF(trim(%s), %s)", id, duck.Str(tokens[0]))
	}
	lits := make([]string, len(tokens))
	for i, t := range tokens {
		lits[i] = duck.Str(t)
	}
	return fmt.Sprintf("CASE WHEN trim(%s) IN (%s) THEN NULL ELSE trim(%s) END", id, strings.Join(lits, ", "), id)
}

// fkKeyCol names column j of a parent-keys table, in the order of the key's columns.
func fkKeyCol(j int) string {
	if j == 0 {
		return fkKey
	}
	return fmt.Sprintf("%s%d", fkKey, j)
}

// fkJoin matches the key's columns (qualified by child) with a parent-keys table
// (qualified by parent), column for column: a hash join on all of them.
func fkJoin(fk spec.ForeignKey, child, parent string) string {
	var conds []string
	for j, c := range fk.ChildColumns() {
		conds = append(conds, child+duck.Ident(c)+" = "+parent+fkKeyCol(j))
	}
	return strings.Join(conds, " AND ")
}

// fkNotNull is true when every column of the key is set: a key with a NULL
// column references nothing and is never an orphan (SQL's MATCH SIMPLE).
func fkNotNull(fk spec.ForeignKey, qual string) string {
	var conds []string
	for _, c := range fk.ChildColumns() {
		conds = append(conds, qual+duck.Ident(c)+" IS NOT NULL")
	}
	return strings.Join(conds, " AND ")
}

// keyText renders a key's values as one text, joined by "|" as sample keys are.
func keyText(cols []string, qual string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "CAST(" + qual + duck.Ident(c) + " AS VARCHAR)"
	}
	return "concat_ws('|', " + strings.Join(parts, ", ") + ")"
}

// topMissing counts the rows of q (one row per orphan, its key as column k) by
// key: distinct keys, then the most frequent first (ties by key), at most limit.
func topMissing(q string, limit int) (count, top string) {
	count = "SELECT count(*), count(DISTINCT k) FROM (" + q + ")"
	top = fmt.Sprintf("SELECT k, count(*) AS n FROM (%s) GROUP BY k ORDER BY n DESC, k LIMIT %d", q, limit)
	return count, top
}

// scan reads the bronze files with each row's origin: file name and row number.
func (p plan) scan(files []sourceFile) string {
	cols := make([]string, 0, len(p.bronze.Columns))
	for _, c := range p.bronze.Columns {
		cols = append(cols, duck.Ident(c.Name))
	}
	var scans []string
	for i, f := range files {
		q := fmt.Sprintf("SELECT %s AS %s, file_row_number AS %s, (%d::BIGINT << 40) + file_row_number AS %s, %s FROM read_parquet(%s, file_row_number = true, hive_partitioning = false)",
			duck.Str(f.Name), lake.ColSourceFile, lake.ColSourceRow, i, colOrd, strings.Join(cols, ", "), duck.Str(f.Local))
		if f.Skip != "" {
			q += fmt.Sprintf(" WHERE get_bit(getvariable(%s), file_row_number::INTEGER) = 0", duck.Str(f.Skip))
		}
		scans = append(scans, q)
	}
	if len(scans) == 0 {
		// No files: an empty source with the bronze columns, typed as the spec says.
		cols := []string{"NULL::VARCHAR AS " + lake.ColSourceFile, "NULL::BIGINT AS " + lake.ColSourceRow, "NULL::BIGINT AS " + colOrd}
		for _, c := range p.bronze.Columns {
			cols = append(cols, fmt.Sprintf("NULL::%s AS %s", c.Type, duck.Ident(c.Name)))
		}
		scans = append(scans, "SELECT "+strings.Join(cols, ", ")+" WHERE false")
	}
	return strings.Join(scans, "\n    UNION ALL ")
}

// castCanFail is true when a column's typed value can be NULL while its cleaned
// source is not: it has an expr, or its type differs from the bronze column's.
func (p plan) castCanFail(c spec.Column) bool {
	b, ok := p.bronze.Column(c.Name)
	if !ok {
		return false
	}
	return c.Expr != "" || !strings.EqualFold(b.Type, c.Type)
}

// typedExpr is the column's expr, or a TRY_CAST of its cleaned bronze value.
func (p plan) typedExpr(c spec.Column) string {
	if c.Expr != "" {
		return fmt.Sprintf("TRY_CAST((%s) AS %s)", c.Expr, c.Type)
	}
	b, _ := p.bronze.Column(c.Name)
	if b != nil && strings.EqualFold(b.Type, c.Type) {
		return duck.Ident(c.Name)
	}
	return fmt.Sprintf("TRY_CAST(%s AS %s)", duck.Ident(c.Name), c.Type)
}

// reasonCase renders the rule order of DESIGN section 3: pk_null, cast_failed,
// not_null, accepted_values, check (each in column order), then fk_orphan.
func (p plan) reasonCase() string {
	var whens []string
	var pkNull []string
	for _, k := range p.table.PrimaryKey {
		if _, ok := p.bronze.Column(k); ok {
			pkNull = append(pkNull, "t."+duck.Ident(srcPrefix+k)+" IS NULL")
		} else {
			pkNull = append(pkNull, "t."+duck.Ident(k)+" IS NULL")
		}
	}
	whens = append(whens, fmt.Sprintf("WHEN %s THEN 'pk_null'", strings.Join(pkNull, " OR ")))
	for _, c := range p.table.Columns {
		if p.castCanFail(c) {
			whens = append(whens, fmt.Sprintf("WHEN t.%s IS NOT NULL AND t.%s IS NULL THEN %s",
				duck.Ident(srcPrefix+c.Name), duck.Ident(c.Name), duck.Str("cast_failed:"+c.Name)))
		}
	}
	for _, c := range p.table.Columns {
		if c.NotNull {
			whens = append(whens, fmt.Sprintf("WHEN t.%s IS NULL THEN %s", duck.Ident(c.Name), duck.Str("not_null:"+c.Name)))
		}
	}
	for _, c := range p.table.Columns {
		if len(c.AcceptedValues) > 0 {
			vals := make([]string, len(c.AcceptedValues))
			for i, v := range c.AcceptedValues {
				vals[i] = fmt.Sprintf("TRY_CAST(%s AS %s)", duck.Str(v), c.Type)
			}
			whens = append(whens, fmt.Sprintf("WHEN t.%s IS NOT NULL AND t.%s NOT IN (%s) THEN %s",
				duck.Ident(c.Name), duck.Ident(c.Name), strings.Join(vals, ", "), duck.Str("accepted_values:"+c.Name)))
		}
	}
	for _, c := range p.table.Columns {
		if c.Check != "" {
			// A check that evaluates to NULL passes, as SQL CHECK constraints do.
			whens = append(whens, fmt.Sprintf("WHEN NOT coalesce((%s), true) THEN %s", c.Check, duck.Str("check:"+c.Name)))
		}
	}
	for i, fk := range p.table.ForeignKeys {
		if fk.Warns() {
			continue
		}
		whens = append(whens, fmt.Sprintf("WHEN %s AND fk%d.%s IS NULL THEN %s",
			fkNotNull(fk, "t."), i, fkKey, duck.Str(fk.Reason())))
	}
	return "CASE " + strings.Join(whens, " ") + " END"
}

// pkCols renders the primary key columns, optionally qualified.
func (p plan) pkCols(qual string) []string {
	out := make([]string, len(p.table.PrimaryKey))
	for i, k := range p.table.PrimaryKey {
		out[i] = qual + duck.Ident(k)
	}
	return out
}

// dedup creates dupkeys (keys occurring more than once among surviving rows) and,
// with a dedup policy, losers (every row of those keys but the first by order_by,
// ties broken by source file (its position in the manifest) and row number). Only duplicated keys are ranked.
func (p plan) dedup() []string {
	pk := strings.Join(p.pkCols(""), ", ")
	stmts := []string{fmt.Sprintf("CREATE TEMP TABLE dupkeys AS SELECT %s FROM classified WHERE %s IS NULL GROUP BY ALL HAVING count(*) > 1",
		pk, colReason)}
	if p.table.Dedup == nil {
		stmts = append(stmts, fmt.Sprintf("CREATE TEMP TABLE losers AS SELECT NULL::BIGINT AS %s WHERE false", colOrd))
		return stmts
	}
	order := make([]string, 0, len(p.table.Dedup.OrderBy)+2)
	for _, term := range p.table.Dedup.OrderBy {
		order = append(order, orderTerm(term))
	}
	order = append(order, "c."+colOrd)
	stmts = append(stmts, fmt.Sprintf(`CREATE TEMP TABLE losers AS SELECT %s FROM (
  SELECT c.%s, row_number() OVER (PARTITION BY %s ORDER BY %s) AS rn
  FROM classified c SEMI JOIN dupkeys d ON %s
  WHERE c.%s IS NULL) WHERE rn > 1`,
		colOrd, colOrd, strings.Join(p.pkCols("c."), ", "), strings.Join(order, ", "),
		p.pkJoin("c.", "d."), colReason))
	return stmts
}

func (p plan) pkJoin(a, b string) string {
	var conds []string
	for _, k := range p.table.PrimaryKey {
		conds = append(conds, a+duck.Ident(k)+" = "+b+duck.Ident(k))
	}
	return strings.Join(conds, " AND ")
}

// fate creates the small temp table "fate": the position and quarantine reason of
// every row that does not reach silver: a rejected row with its reason; a row of a
// duplicated key (dupkeys holds only keys of rows without a reason) as
// pk_duplicate without a dedup policy, and a dedup loser as "deduplicated". It reads
// classified by filter and semi join, never joining every row.
func (p plan) fate() string {
	dups := fmt.Sprintf("SELECT %s, %s FROM losers", colOrd, duck.Str(ReasonDeduplicated))
	if p.table.Dedup == nil {
		dups = fmt.Sprintf("SELECT c.%s, 'pk_duplicate' FROM classified c SEMI JOIN dupkeys d ON %s WHERE c.%s IS NULL",
			colOrd, p.pkJoin("c.", "d."), colReason)
	}
	return fmt.Sprintf(`CREATE TEMP TABLE fate AS SELECT %s, %s AS _final_reason FROM classified WHERE %s IS NOT NULL
UNION ALL %s`, colOrd, colReason, colReason, dups)
}

// fateBits sets the session variable name to the fate of bronze file i (of rows
// rows): a bitstring whose bit r is set when row r does not reach silver. A
// position outside the file fails the statement, never silently.
func fateBits(name string, i int, rows int64) string {
	return fmt.Sprintf("SET VARIABLE %s = (SELECT bitstring_agg(%s & %d, 0::BIGINT, %d::BIGINT) FROM fate WHERE %s >> 40 = %d)",
		duck.Ident(name), colOrd, int64(1)<<40-1, rows-1, colOrd, i)
}

// silverSelect selects the silver rows with the partition column in one streaming
// pass over bronze: each file's rows whose fate bit is 0 (files whose Skip is set
// by fateBits). It has no ORDER BY and no join: scans (files in manifest order,
// UNION ALL) filtered by a row-local WHERE keep the source order (DuckDB's
// documented order preservation, preserve_insertion_order being on), so nothing is
// sorted or materialised. (A NOT IN (SELECT ... FROM fate) is a join and was
// measured to reorder rows across row groups.)
func (p plan) silverSelect(files []sourceFile, partition string) string {
	cols := make([]string, 0, len(p.table.Columns)+1)
	for _, c := range p.table.Columns {
		cols = append(cols, duck.Ident(c.Name))
	}
	if _, ok := p.table.Column(p.table.Key()); !ok {
		cols = append(cols, fmt.Sprintf("DATE %s AS %s", duck.Str(partition), duck.Ident(p.table.Key())))
	}
	return fmt.Sprintf("SELECT %s FROM %s", strings.Join(cols, ", "), p.typed(files, false))
}

// ReasonDeduplicated is the quarantine reason of a row that lost deduplication:
// it is kept there so every bronze row's fate can be found by key, but it counts
// as rows_deduplicated, not rows_quarantined.
const ReasonDeduplicated = "deduplicated"

// quarantineSelect selects rejected and deduplicated rows with their raw bronze
// values, read again from the files by position, plus reason, run and origin.
func (p plan) quarantineSelect(files []sourceFile, runID string) string {
	cols := make([]string, 0, len(p.bronze.Columns)+4)
	for _, c := range p.bronze.Columns {
		cols = append(cols, "b."+duck.Ident(c.Name))
	}
	cols = append(cols, "o._final_reason AS "+lake.ColRejectReason, duck.Str(runID)+" AS "+lake.ColRunID, "b."+lake.ColSourceFile, "b."+lake.ColSourceRow)
	return fmt.Sprintf(`SELECT %s FROM fate o
JOIN (%s) b ON o.%s = b.%s ORDER BY o.%s`,
		strings.Join(cols, ", "), p.scan(files), colOrd, colOrd, colOrd)
}

// orderTerm renders "col [asc|desc]" with NULLs last.
func orderTerm(term string) string {
	f := strings.Fields(term)
	dir := "ASC"
	if len(f) > 1 && strings.EqualFold(f[1], "desc") {
		dir = "DESC"
	}
	return "c." + duck.Ident(f[0]) + " " + dir + " NULLS LAST"
}

func isText(t string) bool { return sqltext.FamilyOf(t) == sqltext.Text }
