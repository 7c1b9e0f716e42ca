package scaffold

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/inputfile"
)

// nullTokenCandidates are raw values that often mean "missing". One counts as a
// null token of a table only with evidence: it blocks a narrower type of a
// column, or it occurs in two columns or more.
var nullTokenCandidates = []string{"NA", "N/A", "n/a", "na", "NULL", "null", "Null", "None", "none", "NaN", "nan", "-", "--", "?", "#N/A", "nil"}

// Accepted-values suggestions: text columns with few distinct values, each seen
// several times on average.
const (
	maxAcceptedValues  = 10
	minRowsPerAccepted = 3
	maxAcceptedLen     = 40
)

// table is what the scaffold learned about one table's files.
type table struct {
	name    string
	inputs  []input
	rel     string // temp table holding every row, columns as read
	rows    int64
	columns []*column
	// nullTokens are the detected tokens (never ""), with where they were seen.
	nullTokens []nullToken
	pk         []string
	pkNote     string
	otherKeys  [][]string
	fks        []foreignKey
}

type nullToken struct {
	value string
	where string // "amount (3 rows, otherwise DECIMAL)" ...
}

// column is one column with its sample statistics and inferred silver type.
type column struct {
	name       string
	bronzeType string
	silverType string
	expr       string
	notes      []string // comments above the silver column
	nonNull    int64    // after null tokens and "" are removed
	distinct   int64
	example    string
	accepted   []string // suggestion, commented
	check      string   // suggestion, commented
	tokens     map[string]int64
}

func (c *column) text() bool { return c.bronzeType == "VARCHAR" }

// cleaned is the SQL of a column's value as silver sees it: trimmed, with "" and
// the given tokens as NULL.
func cleaned(name string, tokens []string) string {
	id := duck.Ident(name)
	list := []string{"''"}
	for _, t := range tokens {
		list = append(list, duck.Str(t))
	}
	return fmt.Sprintf("CASE WHEN trim(%s) IN (%s) THEN NULL ELSE trim(%s) END", id, strings.Join(list, ", "), id)
}

// load reads a table's files into a temp table and lists its columns.
func (sc *scaffolder) load(ctx context.Context, t *table, idx int) error {
	var parts []string
	var first []duck.Column
	for i := range t.inputs {
		in := &t.inputs[i]
		if in.format == inputfile.CSV {
			if err := sniff(ctx, sc.s, in); err != nil {
				return err
			}
			if i > 0 && in.dialect != t.inputs[0].dialect {
				return fail.Usage(fmt.Errorf("table %s: files %s and %s are written differently (%s vs %s); a bronze table has one csv dialect",
					t.name, t.inputs[0].name, in.name, describeDialect(t.inputs[0].dialect), describeDialect(in.dialect)))
			}
		}
		if i > 0 && in.format != t.inputs[0].format {
			return fail.Usage(fmt.Errorf("table %s: files %s (%s) and %s (%s) differ in format", t.name, t.inputs[0].name, t.inputs[0].format, in.name, in.format))
		}
		from, err := reader(ctx, sc.s, *in)
		if err != nil {
			return err
		}
		cols, err := sc.s.Describe(ctx, from)
		if err != nil {
			return readErr(ctx, in.name, err)
		}
		if err := checkNames(in.name, cols); err != nil {
			return err
		}
		if i == 0 {
			first = cols
		}
		parts = append(parts, "SELECT * FROM "+from)
	}
	t.rel = fmt.Sprintf("src_%d", idx)
	q := "CREATE TEMP TABLE " + t.rel + " AS " + strings.Join(parts, " UNION ALL BY NAME ")
	if err := sc.s.Exec(ctx, q); err != nil {
		return readErr(ctx, t.inputs[0].name, err)
	}
	cols, err := sc.s.Describe(ctx, t.rel)
	if err != nil {
		return fmt.Errorf("table %s: %w", t.name, err)
	}
	// Columns in the first file's order, then any a later file adds.
	order := map[string]int{}
	for i, c := range first {
		order[c.Name] = i
	}
	sort.SliceStable(cols, func(i, j int) bool {
		oi, iok := order[cols[i].Name]
		oj, jok := order[cols[j].Name]
		if iok != jok {
			return iok
		}
		return iok && oi < oj
	})
	for _, c := range cols {
		t.columns = append(t.columns, &column{name: c.Name, bronzeType: c.Type, silverType: c.Type})
	}
	t.rows, err = sc.s.Int(ctx, "SELECT count(*) FROM "+t.rel)
	if err != nil {
		return fmt.Errorf("table %s: %w", t.name, err)
	}
	return nil
}

func describeDialect(d dialect) string {
	return fmt.Sprintf("delimiter %q, quote %q, escape %q, header %t, skip_rows %d, encoding %s", d.Delimiter, d.Quote, d.Escape, d.Header, d.SkipRows, d.Encoding)
}

// countTokens counts the candidate null tokens in every text column.
func (sc *scaffolder) countTokens(ctx context.Context, t *table) error {
	for _, c := range t.columns {
		if !c.text() {
			continue
		}
		c.tokens = map[string]int64{}
		id := duck.Ident(c.name)
		q := fmt.Sprintf("SELECT trim(%s), count(*) FROM %s WHERE trim(%s) IN (SELECT unnest(%s)) GROUP BY 1",
			id, t.rel, id, duck.StrList(nullTokenCandidates))
		rows, err := sc.s.Conn.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("table %s column %s: %w", t.name, c.name, err)
		}
		for rows.Next() {
			var tok string
			var n int64
			if err := rows.Scan(&tok, &n); err != nil {
				rows.Close()
				return err
			}
			c.tokens[tok] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// detectNullTokens decides which candidate tokens are the table's null tokens.
func (sc *scaffolder) detectNullTokens(ctx context.Context, t *table) error {
	evidence := map[string][]string{}
	for _, c := range t.columns {
		if len(c.tokens) == 0 {
			continue
		}
		toks := sortedKeys(c.tokens)
		with, err := sc.inferType(ctx, t, c, nil)
		if err != nil {
			return err
		}
		without, err := sc.inferType(ctx, t, c, toks)
		if err != nil {
			return err
		}
		// Evidence: without the tokens the column is narrower, as with NA among
		// dates, or nan among whole numbers (DOUBLE would keep it as NaN).
		if (with.typ == "VARCHAR" || with.typ == "DOUBLE") && without.typ != with.typ && without.nonNull > 0 {
			for _, tok := range toks {
				evidence[tok] = append(evidence[tok], fmt.Sprintf("%s (%s, otherwise %s)", c.name, rowsWord(c.tokens[tok]), without.typ))
			}
		}
	}
	seen := map[string][]string{}
	for _, c := range t.columns {
		for tok, n := range c.tokens {
			seen[tok] = append(seen[tok], fmt.Sprintf("%s (%s)", c.name, rowsWord(n)))
		}
	}
	for _, tok := range nullTokenCandidates {
		switch {
		case len(evidence[tok]) > 0:
			t.nullTokens = append(t.nullTokens, nullToken{value: tok, where: strings.Join(evidence[tok], ", ")})
		case len(seen[tok]) >= 2:
			sort.Strings(seen[tok])
			t.nullTokens = append(t.nullTokens, nullToken{value: tok, where: strings.Join(seen[tok], ", ")})
		}
	}
	return nil
}

func (t *table) tokenValues() []string {
	out := make([]string, len(t.nullTokens))
	for i, n := range t.nullTokens {
		out[i] = n.value
	}
	return out
}

func rowsWord(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.FormatInt(n, 10) + " rows"
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// timeFormats are the non-ISO layouts tried, in order of preference when several
// parse every value (day first: most of the world writes dates so).
var timeFormats = []string{
	"%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%d/%m/%y", "%m/%d/%y",
	"%d %b %Y", "%b %d %Y", "%d-%b-%Y",
	"%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d-%m-%Y %H:%M:%S",
	"%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M",
	"%Y-%m-%d %H:%M:%S %z", "%d/%b/%Y:%H:%M:%S %z",
}

// Patterns a value must match fully before its cast counts: DuckDB's casts are
// lenient ('1.5' casts to INTEGER 2, '2018-01-01 10:00' to a DATE), and silver
// must not round or truncate what it was given.
const (
	reBool    = `(?i)true|false|t|f|yes|no|y|n`
	reInt     = `[+-]?[0-9]+`
	reLeading = `[+-]?0[0-9]+`
	reDecimal = `[+-]?([0-9]+\.[0-9]*|\.[0-9]+)`
	reDouble  = `[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i)[+-]?(nan|inf|infinity)`
	reDate    = `[0-9]{4}-[0-9]{2}-[0-9]{2}`
	reTS      = `[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?Z?`
	reComma   = `[+-]?[0-9]+(,[0-9]+)?`
	reTSTZ    = `[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([+-][0-9]{2}(:?[0-9]{2})?|Z)`
)

// inferred is the narrowest type of a column's cleaned values.
type inferred struct {
	typ string
	// expr converts the column ({col} stands for its name) when a cast is not enough.
	expr    string
	note    string
	nonNull int64
}

// inferType finds the narrowest type every non-null cleaned value of a text
// column converts to without loss, removing the given tokens first.
func (sc *scaffolder) inferType(ctx context.Context, t *table, c *column, tokens []string) (inferred, error) {
	v := "v"
	bad := func(cond string) string { return "count(*) FILTER (WHERE NOT (" + cond + "))" }
	match := func(re string) string { return "regexp_full_match(" + v + ", " + duck.Str(re) + ")" }
	aggs := []string{
		"count(*)",
		bad(match(reBool) + " AND TRY_CAST(v AS BOOLEAN) IS NOT NULL"),
		bad(match(reInt)),
		"count(*) FILTER (WHERE " + match(reLeading) + ")",
		bad("TRY_CAST(v AS INTEGER) IS NOT NULL"),
		bad("TRY_CAST(v AS BIGINT) IS NOT NULL"),
		bad(match(reDecimal) + " OR " + match(reInt)),
		"coalesce(max(length(regexp_extract(v, '^[+-]?0*([0-9]*)', 1))), 0)",
		"coalesce(max(length(regexp_extract(v, '\\.([0-9]*)$', 1))), 0)",
		bad(match(reDouble) + " AND TRY_CAST(v AS DOUBLE) IS NOT NULL"),
		bad(match(reDate) + " AND TRY_CAST(v AS DATE) IS NOT NULL"),
		bad(match(reTS) + " AND TRY_CAST(v AS TIMESTAMP) IS NOT NULL"),
		bad(match(reTSTZ) + " AND TRY_CAST(v AS TIMESTAMPTZ) IS NOT NULL"),
		"min(v)",
		bad(match(reComma)),
		"coalesce(max(length(regexp_extract(v, ',([0-9]*)$', 1))), 0)",
	}
	from := fmt.Sprintf("(SELECT %s AS v FROM %s) WHERE v IS NOT NULL", cleaned(c.name, tokens), t.rel)
	q := "SELECT " + strings.Join(aggs, ", ") + " FROM " + from
	vals := make([]sql.NullInt64, len(aggs))
	var example sql.NullString
	ptrs := make([]any, len(aggs))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	ptrs[13] = &example
	if err := sc.s.Conn.QueryRowContext(ctx, q).Scan(ptrs...); err != nil {
		return inferred{}, fmt.Errorf("table %s column %s: infer type: %w", t.name, c.name, err)
	}
	n := func(i int) int64 { return vals[i].Int64 }
	res := inferred{typ: "VARCHAR", nonNull: n(0)}
	ex := strconv.Quote(example.String)
	intDigits, scale := n(7), n(8)
	switch {
	case res.nonNull == 0:
		res.note = "no value in the sample: the type is unknown, VARCHAR keeps whatever arrives"
	case n(1) == 0:
		res.typ = "BOOLEAN"
	case n(2) == 0 && n(3) > 0:
		res.note = fmt.Sprintf("whole numbers with leading zeros (e.g. %s): kept VARCHAR so the zeros survive; make it an integer type if they are quantities", ex)
	case n(2) == 0 && n(4) == 0:
		res.typ = "INTEGER"
	case n(2) == 0 && n(5) == 0:
		res.typ = "BIGINT"
	case n(2) == 0 && intDigits <= 38:
		res.typ = "DECIMAL(38,0)"
	case n(6) == 0 && intDigits+scale <= 38:
		res.typ = decimalType(intDigits, scale)
		res.note = fmt.Sprintf("up to %d digits before and %d after the point in the sample (e.g. %s); the precision is rounded up to what costs no more to store", intDigits, scale, ex)
	case n(9) == 0:
		res.typ = "DOUBLE"
	case n(10) == 0:
		res.typ = "DATE"
	case n(11) == 0:
		res.typ = "TIMESTAMP"
	case n(14) == 0 && n(15) > 0 && intDigits+n(15) <= 38:
		res.typ = decimalType(intDigits, n(15))
		res.expr = "replace({col}, ',', '.')"
		res.note = fmt.Sprintf("GUESS: numbers with a decimal comma (e.g. %s), read with the comma as the point", ex)
	case n(12) == 0:
		res.typ = "TIMESTAMPTZ"
		res.note = fmt.Sprintf("values carry a UTC offset (e.g. %s): TIMESTAMPTZ keeps the instant", ex)
	default:
		found, err := sc.timeFormats(ctx, from)
		if err != nil {
			return inferred{}, fmt.Errorf("table %s column %s: infer type: %w", t.name, c.name, err)
		}
		if len(found) > 0 {
			f := found[0]
			res.typ = "DATE"
			if strings.Contains(f, "%H") {
				res.typ = "TIMESTAMP"
			}
			res.expr = "try_strptime({col}, " + duck.Str(f) + ")"
			res.note = fmt.Sprintf("GUESS: not ISO 8601, every value parses as %s (e.g. %s)", f, ex)
			if len(found) > 1 {
				res.note += "; also as " + strings.Join(found[1:], ", ") + ": check which one upstream means"
			}
		}
	}
	return res, nil
}

// timeFormats lists the layouts of timeFormats that parse every value of from.
// Layouts are first tried on a thousand values, so that free text does not go
// through every layout row by row; the survivors are checked on all of them.
func (sc *scaffolder) timeFormats(ctx context.Context, from string) ([]string, error) {
	candidates := timeFormats
	for _, limit := range []string{" LIMIT 1000", ""} {
		if len(candidates) == 0 {
			return nil, nil
		}
		aggs := make([]string, len(candidates))
		for i, f := range candidates {
			aggs[i] = "count(*) FILTER (WHERE try_strptime(v, " + duck.Str(f) + ") IS NULL)"
		}
		q := "SELECT " + strings.Join(aggs, ", ") + " FROM (SELECT v FROM " + from + limit + ")"
		bad := make([]int64, len(candidates))
		ptrs := make([]any, len(candidates))
		for i := range bad {
			ptrs[i] = &bad[i]
		}
		if err := sc.s.Conn.QueryRowContext(ctx, q).Scan(ptrs...); err != nil {
			return nil, err
		}
		var kept []string
		for i, f := range candidates {
			if bad[i] == 0 {
				kept = append(kept, f)
			}
		}
		candidates = kept
	}
	return candidates, nil
}

// decimalType fits the sample's digits, its precision rounded up to DuckDB's
// storage widths (9, 18, 38 digits), which cost no more and leave room.
func decimalType(intDigits, scale int64) string {
	width := int64(38)
	for _, w := range []int64{9, 18} {
		if intDigits+scale <= w {
			width = w
			break
		}
	}
	return fmt.Sprintf("DECIMAL(%d,%d)", width, max(scale, 0))
}

// inferColumns types every column with the table's null tokens removed and
// gathers what the silver entry needs: nulls, distinct values, suggestions.
func (sc *scaffolder) inferColumns(ctx context.Context, t *table) error {
	toks := t.tokenValues()
	for _, c := range t.columns {
		val := duck.Ident(c.name)
		if c.text() {
			res, err := sc.inferType(ctx, t, c, toks)
			if err != nil {
				return err
			}
			c.silverType = res.typ
			if res.note != "" {
				c.notes = append(c.notes, res.note)
			}
			if res.expr != "" {
				c.expr = strings.ReplaceAll(res.expr, "{col}", exprIdent(sc.keywords, c.name))
			}
			val = cleaned(c.name, toks)
			for _, tok := range toks {
				if n := c.tokens[tok]; n > 0 && res.typ == "VARCHAR" {
					c.notes = append(c.notes, fmt.Sprintf("holds %q in %s: null_values turns it into NULL here too", tok, rowsWord(n)))
				}
			}
		}
		q := fmt.Sprintf("SELECT count(v), count(DISTINCT v) FROM (SELECT %s AS v FROM %s)", val, t.rel)
		if err := sc.s.Conn.QueryRowContext(ctx, q).Scan(&c.nonNull, &c.distinct); err != nil {
			return fmt.Errorf("table %s column %s: %w", t.name, c.name, err)
		}
		if numeric(c.silverType) && c.nonNull > 0 && keyRank(t.name, c.name) == 3 {
			// A measure that is never negative in the sample probably never is.
			num := val
			if c.text() {
				num = "TRY_CAST(replace(" + val + ", ',', '.') AS DOUBLE)"
			}
			neg, err := sc.s.Int(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s < 0", t.rel, num))
			if err != nil {
				return fmt.Errorf("table %s column %s: %w", t.name, c.name, err)
			}
			if neg == 0 {
				c.check = exprIdent(sc.keywords, c.name) + " >= 0"
			}
		}
		if c.silverType == "VARCHAR" && c.distinct >= 2 && c.distinct <= maxAcceptedValues && c.nonNull >= minRowsPerAccepted*c.distinct {
			vals, err := sc.strings(ctx, fmt.Sprintf("SELECT DISTINCT v FROM (SELECT %s AS v FROM %s) WHERE v IS NOT NULL ORDER BY v", val, t.rel))
			if err != nil {
				return fmt.Errorf("table %s column %s: %w", t.name, c.name, err)
			}
			long := false
			for _, s := range vals {
				long = long || len(s) > maxAcceptedLen
			}
			if !long {
				c.accepted = vals
			}
		}
	}
	return nil
}

func (sc *scaffolder) strings(ctx context.Context, q string) ([]string, error) {
	rows, err := sc.s.Conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// maxPairColumns bounds the pair search for a key (n*(n-1)/2 queries).
const maxPairColumns = 24

// chooseKey finds the candidate primary keys and picks one.
func (sc *scaffolder) chooseKey(ctx context.Context, t *table) error {
	var single []*column
	var full []*column
	for _, c := range t.columns {
		if t.rows == 0 || c.nonNull != t.rows {
			continue
		}
		full = append(full, c)
		if c.distinct == t.rows && keyType(c.silverType) {
			single = append(single, c)
		}
	}
	if len(single) > 0 {
		best := single[0]
		for _, c := range single {
			if keyRank(t.name, c.name) < keyRank(t.name, best.name) {
				best = c
			}
		}
		t.pk = []string{best.name}
		// Other unique columns are worth a mention when their names say key.
		for _, c := range single {
			if c != best && keyRank(t.name, c.name) < 3 && len(t.otherKeys) < 3 {
				t.otherKeys = append(t.otherKeys, []string{c.name})
			}
		}
		return nil
	}
	if len(full) > maxPairColumns {
		full = full[:maxPairColumns]
	}
	toks := t.tokenValues()
	for i := 0; i < len(full); i++ {
		for j := i + 1; j < len(full); j++ {
			a, b := full[i], full[j]
			if !keyType(a.silverType) || !keyType(b.silverType) {
				continue
			}
			n, err := sc.s.Int(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT DISTINCT %s, %s FROM %s)",
				cleaned(a.name, toks), cleaned(b.name, toks), t.rel))
			if err != nil {
				return fmt.Errorf("table %s: key candidates: %w", t.name, err)
			}
			if n == t.rows {
				if t.pk == nil {
					t.pk = []string{a.name, b.name}
				} else if len(t.otherKeys) < 3 {
					t.otherKeys = append(t.otherKeys, []string{a.name, b.name})
				}
			}
		}
	}
	if t.pk == nil {
		name := t.columns[0].name
		if len(full) > 0 {
			name = full[0].name
		}
		t.pk = []string{name}
		if t.rows == 0 {
			t.pkNote = "GUESS: the files hold no rows, so the key, the types and the nulls are unknown: scaffold again from a file with data"
			return nil
		}
		t.pkNote = "GUESS: no column or pair of columns is unique and non-null in the sample, so silver would quarantine duplicates of this key as pk_duplicate: name the real key, or add a dedup policy"
	}
	return nil
}

// numeric: the types a sign check fits.
func numeric(typ string) bool {
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "REAL":
		return true
	}
	return strings.HasPrefix(typ, "DECIMAL")
}

// keyType: types a primary key is made of (not measures, not flags).
func keyType(typ string) bool {
	switch {
	case typ == "BOOLEAN", typ == "DOUBLE", strings.HasPrefix(typ, "DECIMAL") && !strings.HasSuffix(typ, ",0)"):
		return false
	case strings.HasPrefix(typ, "STRUCT"), strings.HasSuffix(typ, "[]"), strings.HasPrefix(typ, "MAP"):
		return false
	}
	return true
}

// keyRank orders key candidates by name: id, <table>_id, anything ending in id, the rest.
func keyRank(tableName, col string) int {
	l := strings.ToLower(col)
	switch {
	case l == "id":
		return 0
	case l == strings.ToLower(tableName)+"_id" || l == singular(strings.ToLower(tableName))+"_id":
		return 1
	case strings.HasSuffix(l, "_id") || strings.HasSuffix(l, "id"):
		return 2
	}
	return 3
}

// singular drops an English plural ending: customers -> customer, addresses -> address.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return s[:len(s)-1]
	}
	return s
}

// exprIdent writes a column name in an expr: plain, unless it is a reserved word.
func exprIdent(keywords map[string]bool, name string) string {
	if keywords[strings.ToLower(name)] {
		return duck.Ident(name)
	}
	return name
}
