package warehouse

import (
	"fmt"
	"strings"

	"github.com/shoplake/lakehouse/internal/duck"
)

// DuckDialect renders SQL for the embedded DuckDB warehouse.
type DuckDialect struct{}

// Name is KindDuckDB.
func (DuckDialect) Name() string { return KindDuckDB }

// Table is "dataset"."name": the warehouse keeps one schema per layer.
func (DuckDialect) Table(dataset, name string) string { return duck.Ident(dataset) + "." + duck.Ident(name) }

// Date is DATE 'YYYY-MM-DD'.
func (DuckDialect) Date(d string) string { return "DATE " + duck.Str(d) }

// DateTrunc is CAST(date_trunc('unit', expr) AS DATE); weeks start on Monday.
func (DuckDialect) DateTrunc(unit, expr string) string {
	return fmt.Sprintf("CAST(date_trunc('%s', %s) AS DATE)", unit, expr)
}

// DateDiff is date_diff('unit', CAST(start AS DATE), CAST(end AS DATE)): unit
// boundaries crossed. DuckDB counts weeks as whole 7-day spans instead, so weeks
// are the days between the two Mondays, divided by 7.
func (DuckDialect) DateDiff(unit, start, end string) string {
	if unit == "week" {
		return fmt.Sprintf("(date_diff('day', CAST(date_trunc('week', CAST(%s AS DATE)) AS DATE), CAST(date_trunc('week', CAST(%s AS DATE)) AS DATE)) // 7)", start, end)
	}
	return fmt.Sprintf("date_diff('%s', CAST(%s AS DATE), CAST(%s AS DATE))", unit, start, end)
}

// DateAdd is CAST(CAST(expr AS DATE) + INTERVAL (n) unit AS DATE).
func (DuckDialect) DateAdd(unit string, n int, expr string) string {
	u, k := intervalOf(unit, n)
	return fmt.Sprintf("CAST(CAST(%s AS DATE) + INTERVAL (%d) %s AS DATE)", expr, k, u)
}

// SafeDivide is (num) / NULLIF(den, 0).
func (DuckDialect) SafeDivide(num, den string) string {
	return fmt.Sprintf("((%s) / NULLIF(%s, 0))", num, den)
}

// DayOfWeek is isodow(expr).
func (DuckDialect) DayOfWeek(expr string) string { return fmt.Sprintf("isodow(%s)", expr) }

// intervalOf maps a date unit to an interval DuckDB adds exactly (weeks as 7 days,
// quarters as 3 months).
func intervalOf(unit string, n int) (string, int) {
	switch unit {
	case "week":
		return "DAY", 7 * n
	case "quarter":
		return "MONTH", 3 * n
	}
	return strings.ToUpper(unit), n
}

// BigQueryDialect renders SQL for BigQuery in one project.
type BigQueryDialect struct{ Project string }

// Name is KindBigQuery.
func (BigQueryDialect) Name() string { return KindBigQuery }

// Table is `project.dataset.name`: the datasets are named after the layers.
func (d BigQueryDialect) Table(dataset, name string) string {
	return "`" + d.Project + "." + dataset + "." + name + "`"
}

// Date is DATE 'YYYY-MM-DD'.
func (BigQueryDialect) Date(s string) string { return "DATE " + duck.Str(s) }

// bqUnit maps a date unit to BigQuery's; weeks are ISO weeks (Monday), as in DuckDB.
func bqUnit(unit string) string {
	if unit == "week" {
		return "ISOWEEK"
	}
	return strings.ToUpper(unit)
}

// DateTrunc is DATE_TRUNC(CAST(expr AS DATE), UNIT).
func (BigQueryDialect) DateTrunc(unit, expr string) string {
	return fmt.Sprintf("DATE_TRUNC(CAST(%s AS DATE), %s)", expr, bqUnit(unit))
}

// DateDiff is DATE_DIFF(CAST(end AS DATE), CAST(start AS DATE), UNIT).
func (BigQueryDialect) DateDiff(unit, start, end string) string {
	return fmt.Sprintf("DATE_DIFF(CAST(%s AS DATE), CAST(%s AS DATE), %s)", end, start, bqUnit(unit))
}

// DateAdd is DATE_ADD(CAST(expr AS DATE), INTERVAL n UNIT).
func (BigQueryDialect) DateAdd(unit string, n int, expr string) string {
	u, k := intervalOf(unit, n)
	return fmt.Sprintf("DATE_ADD(CAST(%s AS DATE), INTERVAL %d %s)", expr, k, u)
}

// SafeDivide is SAFE_DIVIDE(num, den).
func (BigQueryDialect) SafeDivide(num, den string) string {
	return fmt.Sprintf("SAFE_DIVIDE(%s, %s)", num, den)
}

// DayOfWeek maps BigQuery's DAYOFWEEK (1 = Sunday) to ISO (1 = Monday).
func (BigQueryDialect) DayOfWeek(expr string) string {
	return fmt.Sprintf("(MOD(EXTRACT(DAYOFWEEK FROM %s) + 5, 7) + 1)", expr)
}
