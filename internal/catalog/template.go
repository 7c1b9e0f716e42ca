package catalog

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
)

// Macros lists the template functions spec SQL may use, for messages.
var Macros = []string{"partition", "date_trunc", "date_diff", "safe_divide", "money_divide", "previous"}

// units are the date parts date_trunc and date_diff accept; both warehouses know them.
var units = []string{"microsecond", "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year"}

// FuncMap is the template functions of spec SQL for partition D in dialect d:
//
//	{{ partition }}                      DATE 'YYYY-MM-DD' (both dialects)
//	{{ date_trunc "month" "order_ts" }}  date_trunc('month', order_ts) | DATE_TRUNC(order_ts, MONTH)
//	{{ date_diff "day" "a" "b" }}        date_diff('day', a, b)        | DATE_DIFF(b, a, DAY)
//	{{ safe_divide "a" "b" }}            (a) / NULLIF(b, 0)            | SAFE_DIVIDE(a, b)
//	{{ money_divide "a" "b" }}           a / b as DECIMAL(18,2), rounded half away from zero in integer cents
//	{{ previous }}                       an incremental transform's partition D-1 (enriched only)
//
// Arguments are a unit from a fixed list and single SQL expressions (checked with
// spec.CheckExpr), so a slip in a macro call cannot smuggle in a statement.
func FuncMap(d sqltext.Dialect, partition string) template.FuncMap {
	return template.FuncMap{
		"partition": func() string { return d.Date(partition) },
		"date_trunc": func(unit, expr string) (string, error) {
			u, err := checkUnit("date_trunc", unit)
			if err != nil {
				return "", err
			}
			if err := checkArgs("date_trunc", expr); err != nil {
				return "", err
			}
			return d.DateTrunc(u, expr), nil
		},
		"date_diff": func(unit, start, end string) (string, error) {
			u, err := checkUnit("date_diff", unit)
			if err != nil {
				return "", err
			}
			if err := checkArgs("date_diff", start, end); err != nil {
				return "", err
			}
			return d.DateDiff(u, start, end), nil
		},
		"safe_divide": func(num, den string) (string, error) {
			if err := checkArgs("safe_divide", num, den); err != nil {
				return "", err
			}
			return d.SafeDivide(num, den), nil
		},
		"money_divide": func(num, den string) (string, error) {
			if err := checkArgs("money_divide", num, den); err != nil {
				return "", err
			}
			return d.MoneyDivide(num, den), nil
		},
		"previous": func() (string, error) {
			return "", fmt.Errorf("previous: only a transform marked incremental: true reads its partition D-1")
		},
	}
}

// RenderIncremental is Render for an incremental transform: {{ previous }} is
// the relation bound to its partition D-1 (Catalog.BindPrevious).
func RenderIncremental(name, src string, d sqltext.Dialect, partition, previous string) (string, error) {
	return render(name, src, d, partition, func(fm template.FuncMap) {
		fm["previous"] = func() string { return previous }
	})
}

// Render expands the templates of a spec SQL file (name is how messages show it,
// e.g. specs/shop/sql/customer_ltv.sql) for partition D in dialect d. An unknown
// macro or a bad argument is an error naming the file and position.
func Render(name, src string, d sqltext.Dialect, partition string) (string, error) {
	return render(name, src, d, partition, func(template.FuncMap) {})
}

func render(name, src string, d sqltext.Dialect, partition string, adjust func(template.FuncMap)) (string, error) {
	if _, err := lake.ParseDate(partition); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	fm := FuncMap(d, partition)
	adjust(fm)
	tmpl, err := template.New(name).Option("missingkey=error").Funcs(fm).Parse(src)
	if err != nil {
		return "", fmt.Errorf("%s (macros: %s)", trimTemplate(err), strings.Join(Macros, ", "))
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("%s", trimTemplate(err))
	}
	return b.String(), nil
}

// trimTemplate drops text/template's "template: " prefix: the message already
// starts with the file name and position.
func trimTemplate(err error) string {
	return strings.TrimPrefix(err.Error(), "template: ")
}

func checkUnit(macro, unit string) (string, error) {
	u := strings.ToLower(strings.TrimSpace(unit))
	for _, x := range units {
		if u == x {
			return u, nil
		}
	}
	return "", fmt.Errorf("%s: unknown unit %q (want one of %s)", macro, unit, strings.Join(units, ", "))
}

func checkArgs(macro string, exprs ...string) error {
	for _, e := range exprs {
		if err := spec.CheckExpr(e); err != nil {
			return fmt.Errorf("%s: argument %q %v", macro, e, err)
		}
	}
	return nil
}
