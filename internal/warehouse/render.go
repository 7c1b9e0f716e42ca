package warehouse

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
)

// dateUnits are the units date_add accepts.
var dateUnits = map[string]bool{"day": true, "week": true, "month": true, "quarter": true, "year": true}

// RenderOptions say what to render a spec SQL file for.
type RenderOptions struct {
	Dialect sqltext.Dialect
	// Partition is D, the partition being built.
	Partition string
	// DependsOn are the layer-qualified names the SQL may read; only these are
	// rewritten, so an alias that happens to be called "gold" is left alone.
	DependsOn []spec.Ref
	// Dims resolves dims refs: a name that is a dim, or a dim's _history form.
	// Nil treats every dims ref as a plain dim.
	Dims func(name string) (dim string, history bool, ok bool)
	// Bounds narrows names of DependsOn with a depends_on lookback to the rows
	// whose partition column lies in [Since, Partition] (dims.<dim>_history: its
	// snapshots), as the lake catalog binds them for enriched transforms.
	Bounds map[spec.Ref]Bound
}

// Bound is the window of one name: its partition column and the oldest value read.
type Bound struct {
	Key   string
	Since string
}

// Render turns a spec SQL file into the warehouse's SQL for partition D:
//
//   - template macros (Funcs): {{ partition }}, {{ date_trunc "month" "order_ts" }},
//     {{ date_diff "day" "a" "b" }}, {{ safe_divide "a" "b" }} from the catalog,
//     and {{ date_add "day" 1 "d" }}, {{ day_of_week "d" }} (see the README table);
//   - layer-qualified names: silver.orders, enriched.x and gold.y become the
//     warehouse's tables; dims.customers becomes the latest snapshot on or
//     before D, dims.customers_history every snapshot on or before D.
func Render(src string, o RenderOptions) (string, error) {
	if _, err := checkPartition(o.Partition); err != nil {
		return "", err
	}
	text, err := Expand(src, o.Dialect, o.Partition)
	if err != nil {
		return "", err
	}
	return bindRefs(text, o)
}

// Funcs is the template FuncMap for one dialect and partition: the catalog's
// shared macros (partition, date_trunc, date_diff, safe_divide), plus two that
// gold marts need: date_add and day_of_week.
func Funcs(d sqltext.Dialect, partition string) template.FuncMap {
	fm := catalog.FuncMap(d, partition)
	fm["date_add"] = func(u string, n int, expr string) (string, error) {
		l := strings.ToLower(u)
		if !dateUnits[l] {
			return "", fmt.Errorf("date_add: unit %q: use day, week, month, quarter or year", u)
		}
		if err := spec.CheckExpr(expr); err != nil {
			return "", fmt.Errorf("date_add: argument %q %v", expr, err)
		}
		return d.DateAdd(l, n, expr), nil
	}
	fm["day_of_week"] = func(expr string) (string, error) {
		if err := spec.CheckExpr(expr); err != nil {
			return "", fmt.Errorf("day_of_week: argument %q %v", expr, err)
		}
		return d.DayOfWeek(expr), nil
	}
	return fm
}

// Expand renders the template macros only.
func Expand(src string, d sqltext.Dialect, partition string) (string, error) {
	tmpl, err := template.New("sql").Option("missingkey=error").Funcs(Funcs(d, partition)).Parse(src)
	if err != nil {
		return "", fmt.Errorf("sql template: %w", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("sql template: %w", err)
	}
	return b.String(), nil
}

// bindRefs replaces the layer-qualified names of the SQL with the warehouse's.
func bindRefs(src string, o RenderOptions) (string, error) {
	allowed := map[string]spec.Ref{}
	layers := map[string]bool{}
	for _, r := range o.DependsOn {
		allowed[strings.ToLower(r.String())] = r
		layers[strings.ToLower(r.Layer)] = true
	}
	toks, err := sqltext.Scan(src, sqltext.Options{})
	if err != nil {
		return "", fmt.Errorf("sql %w", err)
	}
	var b strings.Builder
	last := 0
	for _, ref := range sqltext.Refs(toks, func(q string) bool { return layers[strings.ToLower(q)] }) {
		if ref.Column {
			continue // silver.orders.col is a column reference, not a table
		}
		r, ok := allowed[strings.ToLower(ref.Qualifier+"."+ref.Name)]
		if !ok {
			continue
		}
		var next *sqltext.Token
		if ref.Last+1 < len(toks) {
			next = &toks[ref.Last+1]
		}
		b.WriteString(src[last:ref.Off])
		b.WriteString(bindRef(r, o, next))
		last = ref.End
	}
	b.WriteString(src[last:])
	return b.String(), nil
}

// bindRef renders one reference. A dims reference becomes a subquery; it gets the
// dim's name as alias unless the SQL gives one.
func bindRef(r spec.Ref, o RenderOptions, next *sqltext.Token) string {
	d := o.Dialect
	b, bounded := o.Bounds[r]
	if r.Layer != spec.LayerDims {
		if !bounded {
			return d.Table(r.Layer, r.Name)
		}
		q := fmt.Sprintf("(SELECT * FROM %s WHERE %s BETWEEN %s AND %s)", d.Table(r.Layer, r.Name), b.Key, d.Date(b.Since), d.Date(o.Partition))
		if next == nil || !isAlias(next) {
			q += " AS " + r.Name
		}
		return q
	}
	dim, history, ok := r.Name, false, true
	if o.Dims != nil {
		dim, history, ok = o.Dims(r.Name)
		if !ok {
			dim, history = r.Name, false
		}
	}
	t := d.Table(spec.LayerDims, dim)
	day := d.Date(o.Partition)
	var q string
	switch {
	case history && bounded:
		q = fmt.Sprintf("(SELECT * FROM %s WHERE %s BETWEEN %s AND %s)", t, lake.DimsKey, d.Date(b.Since), day)
	case history:
		q = fmt.Sprintf("(SELECT * FROM %s WHERE %s <= %s)", t, lake.DimsKey, day)
	default:
		q = fmt.Sprintf("(SELECT * FROM %s WHERE %s = (SELECT MAX(%s) FROM %s WHERE %s <= %s))", t, lake.DimsKey, lake.DimsKey, t, lake.DimsKey, day)
	}
	if next == nil || !isAlias(next) {
		q += " AS " + r.Name
	}
	return q
}

// clauseWords follow a table name where no alias is given.
var clauseWords = map[string]bool{
	"WHERE": true, "JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true, "FULL": true,
	"CROSS": true, "NATURAL": true, "ON": true, "USING": true, "GROUP": true, "ORDER": true,
	"HAVING": true, "QUALIFY": true, "WINDOW": true, "LIMIT": true, "UNION": true,
	"EXCEPT": true, "INTERSECT": true, "ASOF": true, "POSITIONAL": true, "SEMI": true,
	"ANTI": true, "TABLESAMPLE": true, "FOR": true, "OFFSET": true,
}

// isAlias reports whether a token after a table name starts its alias.
func isAlias(t *sqltext.Token) bool {
	switch t.Kind {
	case sqltext.Quoted:
		return true
	case sqltext.Word:
		u := strings.ToUpper(t.Text)
		return u == "AS" || !clauseWords[u]
	}
	return false
}
