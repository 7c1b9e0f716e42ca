package warehouse

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// Dialect renders what differs between the warehouses. Every spec SQL file is
// written once; its macros call these.
type Dialect interface {
	// Name is KindDuckDB or KindBigQuery.
	Name() string
	// Macros is the dialect of the shared spec SQL macros (internal/catalog):
	// partition, date_trunc, date_diff, safe_divide.
	Macros() catalog.Dialect
	// Table is a dataset-qualified table name, quoted: "silver"."orders" or
	// `project.silver.orders`.
	Table(dataset, name string) string
	// Date is a DATE literal.
	Date(d string) string
	// DateAdd adds n units to a DATE expression, giving a DATE.
	DateAdd(unit string, n int, expr string) string
	// DayOfWeek is the ISO day of the week of a DATE: 1 = Monday .. 7 = Sunday.
	DayOfWeek(expr string) string
}

// dateUnits are the units date_add accepts.
var dateUnits = map[string]bool{"day": true, "week": true, "month": true, "quarter": true, "year": true}

// RenderOptions say what to render a spec SQL file for.
type RenderOptions struct {
	Dialect Dialect
	// Partition is D, the partition being built.
	Partition string
	// DependsOn are the layer-qualified names the SQL may read; only these are
	// rewritten, so an alias that happens to be called "gold" is left alone.
	DependsOn []spec.Ref
	// Dims resolves dims refs: a name that is a dim, or a dim's _history form.
	// Nil treats every dims ref as a plain dim.
	Dims func(name string) (dim string, history bool, ok bool)
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
func Funcs(d Dialect, partition string) template.FuncMap {
	fm := catalog.FuncMap(d.Macros(), partition)
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
func Expand(src string, d Dialect, partition string) (string, error) {
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
	for _, r := range o.DependsOn {
		allowed[strings.ToLower(r.String())] = r
	}
	toks, err := scan(src)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	last := 0
	for i := 0; i+2 < len(toks); i++ {
		l, ok := toks[i].name()
		if !ok || toks[i+1].text != "." || toks[i+1].kind != tSymbol {
			continue
		}
		if i > 0 && toks[i-1].kind == tSymbol && toks[i-1].text == "." {
			continue // x.silver.y: silver is not the first part
		}
		n, ok := toks[i+2].name()
		if !ok {
			continue
		}
		if i+3 < len(toks) && toks[i+3].kind == tSymbol && toks[i+3].text == "." {
			continue // silver.orders.col is a column reference, not a table
		}
		r, ok := allowed[strings.ToLower(l+"."+n)]
		if !ok {
			continue
		}
		end := toks[i+2].end
		var next *token
		if i+3 < len(toks) {
			next = &toks[i+3]
		}
		b.WriteString(src[last:toks[i].off])
		b.WriteString(bindRef(r, o, next))
		last = end
		i += 2
	}
	b.WriteString(src[last:])
	return b.String(), nil
}

// bindRef renders one reference. A dims reference becomes a subquery; it gets the
// dim's name as alias unless the SQL gives one.
func bindRef(r spec.Ref, o RenderOptions, next *token) string {
	d := o.Dialect
	if r.Layer != spec.LayerDims {
		return d.Table(r.Layer, r.Name)
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
	if history {
		q = fmt.Sprintf("(SELECT * FROM %s WHERE %s <= %s)", t, lake.DimsKey, day)
	} else {
		q = fmt.Sprintf("(SELECT * FROM %s WHERE %s = (SELECT MAX(%s) FROM %s WHERE %s <= %s))", t, lake.DimsKey, lake.DimsKey, t, lake.DimsKey, day)
	}
	if next == nil || !next.isAlias() {
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
func (t *token) isAlias() bool {
	switch t.kind {
	case tQuoted:
		return true
	case tWord:
		u := strings.ToUpper(t.text)
		return u == "AS" || !clauseWords[u]
	}
	return false
}

// A small SQL scanner: enough to skip comments, strings and quoted names.

type tokKind int

const (
	tWord tokKind = iota
	tQuoted
	tString
	tNumber
	tSymbol
)

type token struct {
	kind      tokKind
	text      string // tQuoted: the unquoted name
	off, end  int
	backticks bool
}

func (t token) name() (string, bool) {
	switch t.kind {
	case tWord:
		return strings.ToLower(t.text), true
	case tQuoted:
		if t.backticks {
			return "", false // `project.dataset.table` is already bound
		}
		return t.text, true
	}
	return "", false
}

func scan(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(src[i:], "--"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errors.New("sql has an unterminated /* comment")
			}
			i += end + 4
		case c == '\'' || c == '"' || c == '`':
			j, err := skipQuoted(src, i, c)
			if err != nil {
				return nil, err
			}
			switch c {
			case '\'':
				toks = append(toks, token{kind: tString, text: src[i:j], off: i, end: j})
			default:
				q := string(c)
				toks = append(toks, token{kind: tQuoted, text: strings.ReplaceAll(src[i+1:j-1], q+q, q), off: i, end: j, backticks: c == '`'})
			}
			i = j
		case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80:
			j := i + 1
			for j < len(src) && (src[j] == '_' || src[j] == '$' || (src[j]|0x20 >= 'a' && src[j]|0x20 <= 'z') || (src[j] >= '0' && src[j] <= '9') || src[j] >= 0x80) {
				j++
			}
			toks = append(toks, token{kind: tWord, text: src[i:j], off: i, end: j})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (src[j] == '.' || src[j] == '_' || (src[j] >= '0' && src[j] <= '9') || (src[j]|0x20 >= 'a' && src[j]|0x20 <= 'z')) {
				j++
			}
			toks = append(toks, token{kind: tNumber, text: src[i:j], off: i, end: j})
			i = j
		default:
			toks = append(toks, token{kind: tSymbol, text: src[i : i+1], off: i, end: i + 1})
			i++
		}
	}
	return toks, nil
}

func skipQuoted(src string, i int, q byte) (int, error) {
	for j := i + 1; j < len(src); j++ {
		if src[j] == q {
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("sql has an unterminated %c quote", q)
}
