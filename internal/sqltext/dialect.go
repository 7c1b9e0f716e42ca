package sqltext

import (
	"fmt"
	"strings"
)

// Dialect renders what differs between the warehouses' SQL. Every spec SQL file
// is written once; its template macros (internal/catalog and internal/warehouse
// Funcs) and its bound table names call these. A new warehouse's SQL flavour is
// one more implementation here, listed in ParseDialect.
type Dialect interface {
	// Name is the dialect as --warehouse and --dialect spell it: duckdb, bigquery.
	Name() string
	// Table is a dataset-qualified table name with every part quoted:
	// "silver"."orders" or `project.silver.orders`.
	Table(dataset, name string) string
	// Date is a DATE literal of a YYYY-MM-DD day.
	Date(d string) string
	// DateTrunc truncates a date or timestamp expression to a unit.
	DateTrunc(unit, expr string) string
	// DateDiff counts the unit boundaries from start to end.
	DateDiff(unit, start, end string) string
	// SafeDivide is num / den, NULL when den is 0.
	SafeDivide(num, den string) string
	// MoneyDivide is money num (cents) / den as DECIMAL(18,2), rounded half away
	// from zero in integer arithmetic, so the cents never depend on a float's
	// rounding; NULL when den is 0 or NULL.
	MoneyDivide(num, den string) string
	// DateAdd adds n units (day, week, month, quarter, year) to a DATE
	// expression, giving a DATE.
	DateAdd(unit string, n int, expr string) string
	// DayOfWeek is the ISO day of the week of a DATE: 1 = Monday .. 7 = Sunday.
	DayOfWeek(expr string) string
}

// Dialect names.
const (
	NameDuckDB   = "duckdb"
	NameBigQuery = "bigquery"
)

// ParseDialect returns the dialect a name gives, spelled as --warehouse spells
// it; project is the BigQuery project its tables live in.
func ParseDialect(name, project string) (Dialect, error) {
	switch name {
	case NameDuckDB:
		return DuckDB{}, nil
	case NameBigQuery:
		return BigQuery{Project: project}, nil
	}
	return nil, fmt.Errorf("unknown SQL dialect %q: use duckdb or bigquery", name)
}

// QuoteIdent is a standard SQL quoted identifier: "name", a quote doubled.
func QuoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// QuoteString is a standard SQL string literal: 'text', a quote doubled. Both
// warehouses read it the same way as long as it holds no backslash, which the
// days and units quoted here never do.
func QuoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// DuckDB renders SQL for the embedded DuckDB warehouse.
type DuckDB struct{}

// Name is duckdb.
func (DuckDB) Name() string { return NameDuckDB }

// Table is "dataset"."name": the warehouse keeps one schema per layer.
func (DuckDB) Table(dataset, name string) string { return QuoteIdent(dataset) + "." + QuoteIdent(name) }

// Date is DATE 'YYYY-MM-DD'.
func (DuckDB) Date(d string) string { return "DATE " + QuoteString(d) }

// DateTrunc is date_trunc('unit', expr).
func (DuckDB) DateTrunc(unit, expr string) string {
	return fmt.Sprintf("date_trunc(%s, %s)", QuoteString(unit), expr)
}

// DateDiff is date_diff('unit', start, end).
func (DuckDB) DateDiff(unit, start, end string) string {
	return fmt.Sprintf("date_diff(%s, %s, %s)", QuoteString(unit), start, end)
}

// SafeDivide is (num) / NULLIF(den, 0).
func (DuckDB) SafeDivide(num, den string) string {
	return fmt.Sprintf("(%s) / NULLIF(%s, 0)", num, den)
}

// MoneyDivide divides whole cents with DuckDB's integer division (//):
// (2|n| + |d|) // 2|d| is |n| / |d| rounded half up.
func (DuckDB) MoneyDivide(num, den string) string {
	n := fmt.Sprintf("CAST((%s) * 100 AS BIGINT)", num)
	d := fmt.Sprintf("CAST(%s AS BIGINT)", den)
	return fmt.Sprintf("CAST((2 * abs(%s) + abs(%s)) // NULLIF(2 * abs(%s), 0) * sign(%s) * sign(%s) * 0.01 AS DECIMAL(18,2))", n, d, d, n, d)
}

// DateAdd is CAST(CAST(expr AS DATE) + INTERVAL (n) unit AS DATE).
func (DuckDB) DateAdd(unit string, n int, expr string) string {
	u, k := intervalOf(unit, n)
	return fmt.Sprintf("CAST(CAST(%s AS DATE) + INTERVAL (%d) %s AS DATE)", expr, k, u)
}

// DayOfWeek is isodow(expr).
func (DuckDB) DayOfWeek(expr string) string { return fmt.Sprintf("isodow(%s)", expr) }

// intervalOf maps a date unit to an interval both warehouses add exactly (weeks
// as 7 days, quarters as 3 months).
func intervalOf(unit string, n int) (string, int) {
	switch unit {
	case "week":
		return "DAY", 7 * n
	case "quarter":
		return "MONTH", 3 * n
	}
	return strings.ToUpper(unit), n
}

// BigQuery renders SQL for BigQuery in one project.
type BigQuery struct{ Project string }

// Name is bigquery.
func (BigQuery) Name() string { return NameBigQuery }

// Table is `project.dataset.name`, every part escaped (a backslash or backtick
// in a part cannot end the quoted path). Datasets are named after the layers.
// A dataset or table name with a dot, which the specs' identifiers never have,
// is quoted part by part so the dot stays part of the name.
func (d BigQuery) Table(dataset, name string) string {
	if strings.Contains(dataset, ".") || strings.Contains(name, ".") {
		return QuoteBigQueryIdent(d.Project) + "." + QuoteBigQueryIdent(dataset) + "." + QuoteBigQueryIdent(name)
	}
	return "`" + escapeBigQuery(d.Project) + "." + escapeBigQuery(dataset) + "." + escapeBigQuery(name) + "`"
}

// QuoteBigQueryIdent is a BigQuery quoted identifier: `name`, with the escapes
// BigQuery's quoted identifiers share with its string literals.
func QuoteBigQueryIdent(name string) string { return "`" + escapeBigQuery(name) + "`" }

// escapeBigQuery escapes the backslash, the backtick and the control characters
// that would end or garble a BigQuery quoted identifier.
func escapeBigQuery(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || r == '`' || r < 0x20 || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '`':
			b.WriteString("\\`")
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Date is DATE 'YYYY-MM-DD'.
func (BigQuery) Date(d string) string { return "DATE " + QuoteString(d) }

// DateTrunc is DATE_TRUNC(expr, UNIT).
func (BigQuery) DateTrunc(unit, expr string) string {
	return fmt.Sprintf("DATE_TRUNC(%s, %s)", expr, strings.ToUpper(unit))
}

// DateDiff is DATE_DIFF(end, start, UNIT).
func (BigQuery) DateDiff(unit, start, end string) string {
	return fmt.Sprintf("DATE_DIFF(%s, %s, %s)", end, start, strings.ToUpper(unit))
}

// SafeDivide is SAFE_DIVIDE(num, den).
func (BigQuery) SafeDivide(num, den string) string {
	return fmt.Sprintf("SAFE_DIVIDE(%s, %s)", num, den)
}

// MoneyDivide divides whole cents with DIV, as DuckDB does, into a NUMERIC.
func (BigQuery) MoneyDivide(num, den string) string {
	n := fmt.Sprintf("CAST((%s) * 100 AS INT64)", num)
	d := fmt.Sprintf("CAST(%s AS INT64)", den)
	return fmt.Sprintf("CAST(DIV(2 * ABS(%s) + ABS(%s), NULLIF(2 * ABS(%s), 0)) * SIGN(%s) * SIGN(%s) AS NUMERIC) / 100", n, d, d, n, d)
}

// DateAdd is DATE_ADD(CAST(expr AS DATE), INTERVAL n UNIT).
func (BigQuery) DateAdd(unit string, n int, expr string) string {
	u, k := intervalOf(unit, n)
	return fmt.Sprintf("DATE_ADD(CAST(%s AS DATE), INTERVAL %d %s)", expr, k, u)
}

// DayOfWeek maps BigQuery's DAYOFWEEK (1 = Sunday) to ISO (1 = Monday).
func (BigQuery) DayOfWeek(expr string) string {
	return fmt.Sprintf("(MOD(EXTRACT(DAYOFWEEK FROM %s) + 5, 7) + 1)", expr)
}
