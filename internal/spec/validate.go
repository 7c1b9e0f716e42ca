package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/shoplake/lakehouse/internal/sqltext"
)

// NormalizeType checks a column type and returns it in canonical form: upper case,
// DECIMAL without inner spaces ("decimal(12, 2)" -> "DECIMAL(12,2)"). A spec
// spells types the DuckDB way (sqltext.SpecTypeNames), not with aliases.
func NormalizeType(t string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(t))
	typ, err := sqltext.ParseType(t)
	isDecimal := strings.HasPrefix(u, "DECIMAL") || strings.HasPrefix(u, "NUMERIC")
	switch {
	case err == nil && typ.Spec():
		return typ.String(), nil
	case isDecimal && err != nil:
		return "", err
	case isDecimal:
		return "", fmt.Errorf("unknown type %q: write DECIMAL(precision,scale), e.g. DECIMAL(12,2)", t)
	}
	return "", fmt.Errorf("unknown type %q%s: use a DuckDB type such as VARCHAR, BIGINT, DOUBLE, DECIMAL(12,2), BOOLEAN, DATE or TIMESTAMP", t, didYouMean(u, sqltext.SpecTypeNames()))
}

// validator checks what the decoder cannot: names, types, references, expressions,
// SQL files and the task graph. It reports every problem, positioned.
type validator struct {
	s     *Spec
	fsys  fs.FS
	files map[string][]byte // the YAML and every SQL file read, for the hash
	errs  Errors
}

// errorf reports a problem at the value at path.
func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, v.s.ErrorAt(path, format, args...))
}

// keyErrorf reports a problem at the key that introduced the value at path.
func (v *validator) keyErrorf(path, format string, args ...any) {
	p := v.s.KeyPos(path)
	v.errs = append(v.errs, &Error{File: v.s.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

// present reports whether the YAML gave the value at path.
func (v *validator) present(path string) bool {
	_, ok := v.s.pos.key[path]
	return ok
}

// ident checks a name the spec gives; empty names were reported by the decoder
// when required, so they are skipped here.
func (v *validator) ident(path, what, name string) bool {
	if name == "" {
		return false
	}
	if IsIdent(name) {
		return true
	}
	if len(name) > MaxIdentLen {
		v.errorf(path, "%s %q is longer than %d characters", what, name, MaxIdentLen)
		return false
	}
	v.errorf(path, "%s %q is not a valid name: use letters, digits and _, not starting with a digit", what, name)
	return false
}

// unique reports names given twice in one list (case-insensitively, as SQL compares them).
func (v *validator) unique(what string, paths, names []string) {
	first := map[string]string{}
	for i, n := range names {
		if n == "" {
			continue
		}
		k := strings.ToLower(n)
		if p, dup := first[k]; dup {
			v.errorf(paths[i], "duplicate %s %q (first at line %d)", what, n, v.s.Pos(p).Line)
			continue
		}
		first[k] = paths[i]
	}
}

// expr checks a single-expression field.
func (v *validator) expr(path, what, src string) {
	if err := CheckExpr(src); err != nil {
		v.errorf(path, "%s %s is not a single SQL expression: it %s", what, strconv.Quote(src), err)
		return
	}
	for _, f := range reaching(src, false) {
		v.errorf(path, "%s %s %s", what, strconv.Quote(src), f.Msg)
	}
}

func (v *validator) validate() {
	s := v.s
	v.ident("pipeline", "pipeline name", s.Pipeline)
	v.bronze()
	v.silver()
	v.dims()
	v.transforms()
	v.marts()
	v.deploy()
	v.graph()
}

func (v *validator) bronze() {
	s := v.s
	v.ident("bronze.partition_key", "partition_key", s.Bronze.PartitionKey)
	v.nullValues("bronze.null_values", "bronze", s.Bronze.NullValues)
	var paths, names []string
	for i := range s.Bronze.Tables {
		t := &s.Bronze.Tables[i]
		p := indexPath("bronze.tables", i)
		paths, names = append(paths, joinPath(p, "name")), append(names, t.Name)
		v.ident(joinPath(p, "name"), "bronze table name", t.Name)
		what := fmt.Sprintf("bronze table %q", t.Name)
		if t.Columns != nil && len(t.Columns) == 0 {
			v.errorf(joinPath(p, "columns"), "%s has no columns: list the columns its files carry", what)
		}
		v.columns(p, what, t.Columns, "bronze")
		v.nullValues(joinPath(p, "null_values"), what, t.NullValues)
		if t.CSV != nil {
			v.csv(joinPath(p, "csv"), what, t.CSV)
		}
	}
	v.unique("bronze table", paths, names)
}

// nullValues checks a null_values list: each token is compared with a trimmed
// value, so a token with outer spaces could never match; an unquoted YAML null
// (NULL, null, ~) would silently become "".
func (v *validator) nullValues(path, what string, tokens []string) {
	seen := map[string]bool{}
	for i, tok := range tokens {
		p := indexPath(path, i)
		switch {
		case v.s.pos.null[p]:
			v.errorf(p, "%s: null_values[%d] is a YAML null (unquoted NULL, null or ~): quote it, e.g. \"NULL\", or write \"\" for the empty value", what, i)
		case strings.TrimSpace(tok) != tok:
			v.errorf(p, "%s: null value %q has leading or trailing spaces: values are trimmed before they are compared, so it would never match; write %q", what, tok, strings.TrimSpace(tok))
		case seen[tok]:
			v.errorf(p, "%s: null value %q is listed twice", what, tok)
		}
		seen[tok] = true
	}
}

// csv checks a bronze table's CSV dialect: characters the reader can use, a
// non-negative skip_rows and an encoding DuckDB's CSV reader knows.
func (v *validator) csv(path, what string, c *CSV) {
	char := func(key, val string, none bool) bool {
		p := joinPath(path, key)
		if !v.present(p) {
			return false
		}
		if val == "" {
			if !none {
				v.errorf(p, "%s: csv.%s is empty: give one character, e.g. \",\", \";\", \"|\" or \"\\t\"", what, key)
			}
			return false
		}
		if len(val) != 1 || val[0] > 0x7e || (val[0] < 0x20 && val[0] != '\t') {
			v.errorf(p, "%s: csv.%s %q must be one ASCII character%s", what, key, val, map[bool]string{true: ", or \"\" for none", false: ""}[none])
			return false
		}
		return true
	}
	d := char("delimiter", c.Delimiter, false)
	var q, e bool
	if c.Quote != nil {
		q = char("quote", *c.Quote, true)
	}
	if c.Escape != nil {
		e = char("escape", *c.Escape, true)
	}
	if (d || q) && c.QuoteChar() != 0 && c.Delim() == c.QuoteChar() {
		v.errorf(joinPath(path, "quote"), "%s: csv.quote and csv.delimiter are both %q: they must differ", what, string(c.Delim()))
	}
	if (d || e) && c.EscapeChar() != 0 && c.Delim() == c.EscapeChar() {
		v.errorf(joinPath(path, "escape"), "%s: csv.escape and csv.delimiter are both %q: they must differ", what, string(c.Delim()))
	}
	if c.SkipRows < 0 {
		v.errorf(joinPath(path, "skip_rows"), "%s: csv.skip_rows must not be negative, got %d", what, c.SkipRows)
	}
	if v.present(joinPath(path, "encoding")) && !contains(CSVEncodings, c.Encoding) {
		v.errorf(joinPath(path, "encoding"), "%s: csv.encoding %q is not one DuckDB reads%s: use %s", what, c.Encoding,
			didYouMean(c.Encoding, CSVEncodings), strings.Join(CSVEncodings, ", "))
	}
}

// columns checks the columns of a bronze or silver table, or the declared
// output columns of an enriched transform (layer "enriched").
func (v *validator) columns(tablePath, what string, cols []Column, layer string) {
	var paths, names []string
	for j := range cols {
		c := &cols[j]
		p := indexPath(joinPath(tablePath, "columns"), j)
		paths, names = append(paths, joinPath(p, "name")), append(names, c.Name)
		v.ident(joinPath(p, "name"), "column name", c.Name)
		cw := fmt.Sprintf("%s: column %q", what, c.Name)
		if c.Type != "" {
			if t, err := NormalizeType(c.Type); err != nil {
				v.errorf(joinPath(p, "type"), "%s: %v", cw, err)
			} else {
				c.Type = t
			}
		}
		if layer != "silver" {
			for _, f := range []string{"expr", "check", "not_null", "accepted_values"} {
				if !v.present(joinPath(p, f)) {
					continue
				}
				if layer == "enriched" {
					v.keyErrorf(joinPath(p, f), "%s: %s has no effect on a transform's columns; use checks (not_null, rules)", cw, f)
				} else {
					v.keyErrorf(joinPath(p, f), "%s: %s has no effect in bronze; put it on the base_silver column", cw, f)
				}
			}
			continue
		}
		if v.present(joinPath(p, "expr")) {
			v.expr(joinPath(p, "expr"), cw+": expr", c.Expr)
		}
		if v.present(joinPath(p, "check")) {
			v.expr(joinPath(p, "check"), cw+": check", c.Check)
		}
		if c.AcceptedValues != nil && len(c.AcceptedValues) == 0 {
			v.errorf(joinPath(p, "accepted_values"), "%s: accepted_values is empty: list the allowed values or remove the key", cw)
		}
		seen := map[string]bool{}
		for k, a := range c.AcceptedValues {
			if seen[a] {
				v.errorf(indexPath(joinPath(p, "accepted_values"), k), "%s: accepted value %q is listed twice", cw, a)
			}
			seen[a] = true
		}
	}
	v.unique("column", paths, names)
}

func (v *validator) silver() {
	s := v.s
	var paths, names []string
	var bronzeNames, silverNames []string
	for _, t := range s.Bronze.Tables {
		bronzeNames = append(bronzeNames, t.Name)
	}
	for _, t := range s.BaseSilver.Tables {
		silverNames = append(silverNames, t.Name)
	}
	for i := range s.BaseSilver.Tables {
		t := &s.BaseSilver.Tables[i]
		p := indexPath("base_silver.tables", i)
		paths, names = append(paths, joinPath(p, "name")), append(names, t.Name)
		v.ident(joinPath(p, "name"), "base_silver table name", t.Name)
		what := fmt.Sprintf("base_silver table %q", t.Name)
		v.ident(joinPath(p, "partition_key"), "partition_key", t.PartitionKey)

		var src *BronzeTable
		if t.Source != "" && v.ident(joinPath(p, "source"), "source", t.Source) {
			var ok bool
			if src, ok = s.BronzeTable(t.Source); !ok {
				v.errorf(joinPath(p, "source"), "%s: source %q is not a bronze table%s", what, t.Source, didYouMean(t.Source, bronzeNames))
			}
		}

		if t.Columns != nil && len(t.Columns) == 0 {
			v.errorf(joinPath(p, "columns"), "%s has no columns", what)
		}
		v.columns(p, what, t.Columns, "silver")
		if src != nil {
			for j, c := range t.Columns {
				if c.Expr == "" && c.Name != "" {
					if _, ok := src.Column(c.Name); !ok {
						v.errorf(joinPath(indexPath(joinPath(p, "columns"), j), "name"),
							"%s: column %q has no bronze column of that name in %q: add an expr that computes it", what, c.Name, src.Name)
					}
				}
			}
		}

		colNames := make([]string, len(t.Columns))
		for j, c := range t.Columns {
			colNames[j] = c.Name
		}
		isCol := func(pp, role, name string) {
			if v.ident(pp, role, name) {
				if _, ok := t.Column(name); !ok {
					v.errorf(pp, "%s: %s %q is not a column of the table%s", what, role, name, didYouMean(name, colNames))
				}
			}
		}

		if t.PrimaryKey != nil && len(t.PrimaryKey) == 0 {
			v.errorf(joinPath(p, "primary_key"), "%s: primary_key is empty: name the column(s) that identify a row", what)
		}
		seen := map[string]bool{}
		for k, c := range t.PrimaryKey {
			pp := indexPath(joinPath(p, "primary_key"), k)
			if c == "" {
				v.errorf(pp, "%s: primary_key has an empty column name", what)
				continue
			}
			isCol(pp, "primary_key column", c)
			if seen[c] {
				v.errorf(pp, "%s: primary_key column %q is listed twice", what, c)
			}
			seen[c] = true
		}

		if t.Dedup != nil {
			dp := joinPath(p, "dedup.order_by")
			if t.Dedup.OrderBy != nil && len(t.Dedup.OrderBy) == 0 {
				v.errorf(dp, "%s: dedup.order_by is empty: name the column(s) that pick the surviving row, e.g. [updated_at desc]", what)
			}
			for k, term := range t.Dedup.OrderBy {
				pp := indexPath(dp, k)
				ot, err := ParseOrderTerm(term)
				if err != nil {
					v.errorf(pp, "%s: dedup.%v", what, err)
					continue
				}
				isCol(pp, "dedup.order_by column", ot.Column)
			}
			if vp := joinPath(p, "dedup.versions_within"); v.present(vp) {
				if _, err := ParseDays(t.Dedup.VersionsWithin); err != nil {
					v.errorf(vp, "%s: dedup.versions_within: %v", what, err)
				}
			}
		}

		for k, fk := range t.ForeignKeys {
			v.foreignKey(s, t, indexPath(joinPath(p, "foreign_keys"), k), what, fk, isCol, silverNames)
		}

		for _, th := range []struct {
			key string
			val *float64
		}{{"max_quarantine_rate", t.Thresholds.MaxQuarantineRate}, {"max_row_loss", t.Thresholds.MaxRowLoss}} {
			if th.val != nil && (math.IsNaN(*th.val) || *th.val < 0 || *th.val > 1) {
				v.errorf(joinPath(p, "thresholds."+th.key), "%s: thresholds.%s must be between 0 and 1, got %v", what, th.key, *th.val)
			}
		}
		v.floors(p, what, &t.Thresholds)
	}
	v.unique("base_silver table", paths, names)
}

// floors checks min_rows_for_rate: a count, and only meaningful with a rate.
func (v *validator) floors(p, what string, th *Thresholds) {
	n := th.MinRowsForRate
	if n == nil {
		return
	}
	path := joinPath(p, "thresholds.min_rows_for_rate")
	switch {
	case *n < 0:
		v.errorf(path, "%s: thresholds.min_rows_for_rate must not be negative, got %d", what, *n)
	case th.MaxQuarantineRate == nil && th.MaxRowLoss == nil:
		v.errorf(path, "%s: thresholds.min_rows_for_rate has no rate to apply to: set max_quarantine_rate or max_row_loss", what)
	}
}

func (v *validator) dims() {
	s := v.s
	var paths, names, silverNames []string
	for _, t := range s.BaseSilver.Tables {
		silverNames = append(silverNames, t.Name)
	}
	for i := range s.Dims {
		d := &s.Dims[i]
		p := indexPath("dims", i)
		paths, names = append(paths, joinPath(p, "name")), append(names, d.Name)
		v.ident(joinPath(p, "name"), "dim name", d.Name)
		what := fmt.Sprintf("dim %q", d.Name)
		if d.Source != "" && v.ident(joinPath(p, "source"), "source", d.Source) {
			if _, ok := s.SilverTable(d.Source); !ok {
				v.errorf(joinPath(p, "source"), "%s: source %q is not a base_silver table%s", what, d.Source, didYouMean(d.Source, silverNames))
			}
		}
		if d.MaxAge != "" {
			age, err := ParseAge(d.MaxAge)
			switch {
			case err != nil:
				v.errorf(joinPath(p, "max_age"), "%s: max_age %q is not a duration: write e.g. 24h, 90m or 7d", what, d.MaxAge)
			case age <= 0:
				v.errorf(joinPath(p, "max_age"), "%s: max_age %q must be positive", what, d.MaxAge)
			}
		}
	}
	v.unique("dim", paths, names)
}

func (v *validator) transforms() {
	s := v.s
	var paths, names []string
	for i := range s.Enriched.Transforms {
		t := &s.Enriched.Transforms[i]
		p := indexPath("enriched.transforms", i)
		paths, names = append(paths, joinPath(p, "name")), append(names, t.Name)
		v.ident(joinPath(p, "name"), "transform name", t.Name)
		what := fmt.Sprintf("enriched transform %q", t.Name)
		v.ident(joinPath(p, "partition_key"), "partition_key", t.PartitionKey)
		deps := v.dependsOn(p, what, Ref{"enriched", t.Name}, t.DependsOn, []string{"silver", "dims", "enriched"})
		v.sqlFile(p, what, t.SQL, deps, []string{"silver", "dims", "enriched"})
		if src, ok := s.SQL[t.SQL]; ok && !t.Incremental {
			if loc := previousMacro.FindStringIndex(src); loc != nil {
				line := 1 + strings.Count(src[:loc[0]], "\n")
				col := 1 + loc[0] - (strings.LastIndexByte(src[:loc[0]], '\n') + 1)
				v.errs = append(v.errs, &Error{File: path.Join(s.Dir, t.SQL), Line: line, Col: col,
					Msg: fmt.Sprintf("%s reads {{ previous }}, its own partition D-1, but is not incremental: add incremental: true and its columns", what)})
			}
		}
		if t.Columns != nil {
			v.columns(p, what, t.Columns, "enriched")
			if len(t.Columns) == 0 {
				v.errorf(joinPath(p, "columns"), "%s: columns is empty: list the output columns or remove the key", what)
			}
			for j, c := range t.Columns {
				if c.Name == t.Key() {
					v.errorf(joinPath(indexPath(joinPath(p, "columns"), j), "name"), "%s: column %q is the partition key, which every partition gets as DATE: leave it out", what, c.Name)
				}
			}
		}
		if t.Incremental && t.Columns == nil {
			v.errorf(joinPath(p, "incremental"), "%s: incremental needs columns (name and type of every output column): the first build reads an empty {{ previous }} of those columns, and every build's output is checked against them", what)
		}
		if t.Checks.MinRows != nil && *t.Checks.MinRows < 0 {
			v.errorf(joinPath(p, "checks.min_rows"), "%s: checks.min_rows must not be negative", what)
		}
		for k, c := range t.Checks.NotNull {
			pp := indexPath(joinPath(p, "checks.not_null"), k)
			if c == "" {
				v.errorf(pp, "%s: checks.not_null has an empty column name", what)
				continue
			}
			v.ident(pp, "checks.not_null column", c)
		}
		for k, r := range t.Checks.Rules {
			v.expr(indexPath(joinPath(p, "checks.rules"), k), what+": rule", r)
		}
	}
	v.unique("enriched transform", paths, names)
}

func (v *validator) marts() {
	s := v.s
	var paths, names []string
	for _, kind := range []struct {
		key   string
		label string
		marts []Mart
	}{{"gold.facts", "gold fact", s.Gold.Facts}, {"gold.dims", "gold dim", s.Gold.Dims}} {
		for i := range kind.marts {
			m := &kind.marts[i]
			p := indexPath(kind.key, i)
			paths, names = append(paths, joinPath(p, "name")), append(names, m.Name)
			v.ident(joinPath(p, "name"), kind.label+" name", m.Name)
			what := fmt.Sprintf("%s %q", kind.label, m.Name)
			layers := []string{"silver", "dims", "enriched", "gold"}
			deps := v.dependsOn(p, what, Ref{"gold", m.Name}, m.DependsOn, layers)
			v.sqlFile(p, what, m.SQL, deps, layers)
			v.ident(joinPath(p, "partition_by"), "partition_by", m.PartitionBy)
			for k, c := range m.ClusterBy {
				pp := indexPath(joinPath(p, "cluster_by"), k)
				if c == "" {
					v.errorf(pp, "%s: cluster_by has an empty column name", what)
					continue
				}
				v.ident(pp, "cluster_by column", c)
			}
		}
	}
	v.unique("gold table", paths, names)
}

// refForms describes the depends_on forms of the given layers, for messages.
func refForms(layers []string) string {
	var fs []string
	for _, l := range layers {
		switch l {
		case "silver":
			fs = append(fs, "silver.<table>")
		case "dims":
			fs = append(fs, "dims.<dim>", "dims.<dim>_history")
		case "enriched":
			fs = append(fs, "enriched.<transform>")
		case "gold":
			fs = append(fs, "gold.<mart>")
		}
	}
	return strings.Join(fs, ", ")
}

// dependsOn checks a depends_on list and returns the set of refs it names
// (lower-cased "layer.name"), for the SQL reference check.
func (v *validator) dependsOn(p, what string, self Ref, deps []DependsOnEntry, layers []string) map[string]bool {
	s := v.s
	set := map[string]bool{}
	for k, e := range deps {
		pp := joinPath(indexPath(joinPath(p, "depends_on"), k), "table")
		d := e.Table
		v.lookback(joinPath(parentPath(pp), "lookback"), what, d, e.Lookback)
		if _, given := s.pos.val[pp]; !given {
			continue // a mapping without table: the decoder said so
		}
		r, err := ParseRef(d)
		if err != nil {
			v.errorf(pp, "%s: depends_on %q must be layer-qualified: %s", what, d, refForms(layers))
			continue
		}
		key := strings.ToLower(r.String())
		if set[key] {
			v.errorf(pp, "%s: depends_on %q is listed twice", what, d)
			continue
		}
		set[key] = true
		if !contains(layers, r.Layer) {
			v.errorf(pp, "%s: depends_on %q: the %s layer is not readable here; use %s", what, d, r.Layer, refForms(layers))
			continue
		}
		if r == self {
			v.errorf(pp, "%s: depends_on %q is the table itself", what, d)
			continue
		}
		var ok bool
		var known []string
		switch r.Layer {
		case "silver":
			_, _, ok = s.SilverOf(r.Name)
			for _, t := range s.BaseSilver.Tables {
				known = append(known, t.Name, t.Name+LatestSuffix)
			}
		case "dims":
			_, _, ok = s.DimOf(r.Name)
			for _, t := range s.Dims {
				known = append(known, t.Name, t.Name+HistorySuffix)
			}
		case "enriched":
			_, ok = s.Transform(r.Name)
			for _, t := range s.Enriched.Transforms {
				known = append(known, t.Name)
			}
		case "gold":
			_, ok = s.Mart(r.Name)
			for _, m := range s.Marts() {
				known = append(known, m.Name)
			}
		}
		if !ok {
			v.errorf(pp, "%s: depends_on %q: there is no %s %q%s", what, d, layerNoun(r.Layer), r.Name, didYouMean(r.Name, known))
		}
	}
	return set
}

// lookback checks a depends_on entry's lookback: whole days, and only on a name
// that binds partitions (not a dims snapshot, which is one partition already, nor
// a gold table, which the warehouse holds).
func (v *validator) lookback(path, what, table, lb string) {
	if lb == "" && !v.present(path) {
		return
	}
	if _, err := ParseLookback(lb); err != nil || lb == "" {
		if err == nil {
			err = fmt.Errorf("lookback is empty: write whole days or weeks, e.g. 0d, 1d, 90d or 2w, or leave it out for every partition")
		}
		v.errorf(path, "%s: depends_on %q: %v", what, table, err)
		return
	}
	r, err := ParseRef(table)
	if err != nil {
		return // reported with the name
	}
	switch r.Layer {
	case "dims":
		if _, history, ok := v.s.DimOf(r.Name); ok && !history {
			v.errorf(path, "%s: depends_on %q: a lookback bounds partitions, and dims.%s is one snapshot (the latest on or before D); drop the lookback, or bound the snapshots of dims.%s%s", what, table, r.Name, r.Name, HistorySuffix)
		}
	case "gold":
		v.errorf(path, "%s: depends_on %q: a lookback bounds lake partitions; a gold table is read from the warehouse whole", what, table)
	}
}

func layerNoun(layer string) string {
	switch layer {
	case "silver":
		return "base_silver table"
	case "dims":
		return "dim"
	case "enriched":
		return "enriched transform"
	case "gold":
		return "gold table"
	}
	return layer + " table"
}

// previousMacro finds {{ previous }} in a transform's SQL template.
var previousMacro = regexp.MustCompile(`\{\{-?\s*previous\s*-?\}\}`)

// sqlFile checks a transform's or mart's sql path, reads the file, and checks that
// every layer-qualified name it reads is in depends_on.
func (v *validator) sqlFile(p, what, file string, deps map[string]bool, layers []string) {
	if file == "" {
		return
	}
	pp := joinPath(p, "sql")
	if path.IsAbs(file) || strings.Contains(file, `\`) || !fs.ValidPath(file) {
		v.errorf(pp, "%s: sql path %q must be relative and inside the spec folder, without \"..\" or \"./\" (e.g. sql/%s.sql)", what, file, lastName(what))
		return
	}
	if !strings.HasSuffix(file, ".sql") {
		v.errorf(pp, "%s: sql path %q must name a .sql file", what, file)
		return
	}
	raw, seen := v.files[file]
	if !seen {
		var err error
		raw, err = fs.ReadFile(v.fsys, file)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				v.errorf(pp, "%s: sql file %q not found in %s", what, file, displayDir(v.s.Dir))
			} else {
				v.errorf(pp, "%s: cannot read sql file %q: %v", what, file, err)
			}
			return
		}
		v.files[file] = raw
		v.s.SQL[file] = string(raw)
	}
	shown := path.Join(v.s.Dir, file)
	if strings.TrimSpace(string(raw)) == "" {
		v.errs = append(v.errs, &Error{File: shown, Msg: fmt.Sprintf("sql file of %s is empty", what)})
		return
	}
	refs, err := scanRefs(string(raw))
	if err != nil {
		v.errs = append(v.errs, &Error{File: shown, Msg: fmt.Sprintf("sql file of %s %v", what, err)})
		return
	}
	for _, r := range refs {
		if deps[strings.ToLower(r.ref.String())] {
			continue
		}
		msg := fmt.Sprintf("%s reads %s, which its depends_on does not list: add it there so the task runs after it", what, r.ref)
		if !contains(layers, r.ref.Layer) {
			msg = fmt.Sprintf("%s reads %s, but it may only read %s", what, r.ref, refForms(layers))
		}
		v.errs = append(v.errs, &Error{File: shown, Line: r.line, Col: r.col, Msg: msg})
	}
	for _, f := range reaching(string(raw), true) {
		line, col := sqltext.LineCol(string(raw), f.Off)
		v.errs = append(v.errs, &Error{File: shown, Line: line, Col: col, Msg: fmt.Sprintf("sql file of %s %s", what, f.Msg)})
	}
}

// lastName extracts the quoted name of "kind \"name\"", for examples in messages.
func lastName(what string) string {
	if i := strings.IndexByte(what, '"'); i >= 0 {
		return strings.Trim(what[i:], `"`)
	}
	return what
}

func displayDir(dir string) string {
	if dir == "" {
		return "the spec folder"
	}
	return dir
}

// scheduleLayers are the layers deploy.schedules may name.
var scheduleLayers = []string{"bronze", "silver", "dims", "enriched", "gold"}

func (v *validator) deploy() {
	keys := make([]string, 0, len(v.s.Deploy.Schedules))
	for k := range v.s.Deploy.Schedules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !contains(scheduleLayers, k) {
			v.keyErrorf(joinPath("deploy.schedules", k), "deploy.schedules: unknown layer %q%s: use bronze, silver, dims, enriched or gold", k, didYouMean(k, scheduleLayers))
		}
	}
}

// graph reports a cycle in the task graph, at the spec entry that closes it.
func (v *validator) graph() {
	g := v.s.Graph()
	_, err := g.TopoOrder()
	var ce *CycleError
	if !errors.As(err, &ce) {
		return
	}
	// Point at the earliest spec entry among the edges of the cycle.
	best := ""
	for i := 0; i+1 < len(ce.Path); i++ {
		o, ok := g.origin[Edge{ce.Path[i], ce.Path[i+1]}]
		if !ok {
			continue
		}
		if best == "" || posLess(v.s.Pos(o), v.s.Pos(best)) {
			best = o
		}
	}
	v.errorf(best, "%v: break it by removing one of these dependencies", err)
}

func posLess(a, b Pos) bool {
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// foreignKey checks one foreign key of silver table t: its columns (column or
// columns, not both), on_orphan, and that references names another base-silver
// table's primary key, column for column, with matching types.
func (v *validator) foreignKey(s *Spec, t *SilverTable, fp, what string, fk ForeignKey, isCol func(pp, role, name string), silverNames []string) {
	switch {
	case fk.Column != "" && fk.Columns != nil:
		v.errorf(joinPath(fp, "columns"), "%s: foreign key has both column and columns: use column for one column, columns for a composite key", what)
		return
	case fk.Column == "" && fk.Columns == nil:
		if _, given := s.pos.key[joinPath(fp, "column")]; given {
			return // decoding already said what is wrong with it
		}
		v.errorf(fp, "%s: foreign key needs column (one column) or columns (a composite key)", what)
		return
	case fk.Column != "":
		isCol(joinPath(fp, "column"), "foreign key column", fk.Column)
	case len(fk.Columns) == 0:
		v.errorf(joinPath(fp, "columns"), "%s: foreign key columns is empty: name the column(s) that reference the parent", what)
		return
	default:
		seen := map[string]bool{}
		for j, c := range fk.Columns {
			pp := indexPath(joinPath(fp, "columns"), j)
			isCol(pp, "foreign key column", c)
			if seen[c] {
				v.errorf(pp, "%s: foreign key column %q is listed twice", what, c)
			}
			seen[c] = true
		}
	}
	if fk.OnOrphan != "" && fk.OnOrphan != OnOrphanQuarantine && fk.OnOrphan != OnOrphanWarn {
		v.errorf(joinPath(fp, "on_orphan"), "%s: on_orphan %q is unsupported: use %s (the default) or %s", what, fk.OnOrphan, OnOrphanQuarantine, OnOrphanWarn)
	}
	if lp := joinPath(fp, "lookback"); fk.Lookback != "" || v.present(lp) {
		if _, err := ParseLookback(fk.Lookback); err != nil || fk.Lookback == "" {
			if err == nil {
				err = fmt.Errorf("lookback is empty: write whole days or weeks, e.g. 0d, 1d, 90d or 2w, or leave it out for every parent partition")
			}
			v.errorf(lp, "%s: foreign key %s: %v", what, fk.Name(), err)
		}
	}
	if fk.References == "" {
		return
	}
	rp := joinPath(fp, "references")
	pt, rest := splitRef(fk.References)
	pcs := fk.ParentColumns()
	valid := IsIdent(pt) && len(pcs) > 0
	for _, c := range pcs {
		valid = valid && IsIdent(c)
	}
	if !valid {
		if strings.HasPrefix(rest, "(") || len(fk.Columns) > 0 {
			v.errorf(rp, "%s: references %q must be \"table.(column, ...)\" naming a base_silver table and its key columns", what, fk.References)
		} else {
			v.errorf(rp, "%s: references %q must be \"table.column\" naming a base_silver table and its column", what, fk.References)
		}
		return
	}
	cols := fk.ChildColumns()
	if len(cols) > 0 && len(cols) != len(pcs) {
		v.errorf(rp, "%s: foreign key has %d column(s) (%s) but references %q names %d: name one parent column per column, in the same order",
			what, len(cols), fk.Name(), fk.References, len(pcs))
		return
	}
	if pt == t.Name {
		v.errorf(rp, "%s: foreign key %q references the table itself; self-references are not supported", what, fk.References)
		return
	}
	parent, ok := s.SilverTable(pt)
	if !ok {
		v.errorf(rp, "%s: references %q: %q is not a base_silver table%s", what, fk.References, pt, didYouMean(pt, silverNames))
		return
	}
	var pnames []string
	for _, c := range parent.Columns {
		pnames = append(pnames, c.Name)
	}
	for j, pc := range pcs {
		pcol, ok := parent.Column(pc)
		if !ok {
			v.errorf(rp, "%s: references %q: %q is not a column of %q%s", what, fk.References, pc, pt, didYouMean(pc, pnames))
			return
		}
		if j >= len(cols) {
			continue
		}
		if col, ok := t.Column(cols[j]); ok {
			a, errA := NormalizeType(col.Type)
			b, errB := NormalizeType(pcol.Type)
			if errA == nil && errB == nil && a != b {
				v.errorf(rp, "%s: foreign key column %q is %s but %s.%s is %s: make the types match", what, cols[j], a, pt, pc, b)
			}
		}
	}
	// The parent's keys are looked up as its primary key: other columns need not be
	// unique, and a join on them could match a row more than once.
	if !sameSet(pcs, parent.PrimaryKey) {
		v.errorf(rp, "%s: references %q: (%s) is not the primary key of %q, which is (%s): a foreign key must reference its parent's primary key",
			what, fk.References, strings.Join(pcs, ", "), pt, strings.Join(parent.PrimaryKey, ", "))
	}
}

// sameSet reports whether a and b hold the same names, each once.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	for _, x := range a {
		if !in[x] {
			return false
		}
		delete(in, x)
	}
	return true
}
