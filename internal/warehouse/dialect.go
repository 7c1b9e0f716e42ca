package warehouse

import (
	"fmt"
	"strings"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/duck"
)

// DuckDialect renders SQL for the embedded DuckDB warehouse.
type DuckDialect struct{}

// Name is KindDuckDB.
func (DuckDialect) Name() string { return KindDuckDB }

// Table is "dataset"."name": the warehouse keeps one schema per layer.
func (DuckDialect) Table(dataset, name string) string {
	return duck.Ident(dataset) + "." + duck.Ident(name)
}

// Macros is the catalog's DuckDB dialect.
func (DuckDialect) Macros() catalog.Dialect { return catalog.DuckDB }

// Date is DATE 'YYYY-MM-DD'.
func (DuckDialect) Date(d string) string { return "DATE " + duck.Str(d) }

// DateAdd is CAST(CAST(expr AS DATE) + INTERVAL (n) unit AS DATE).
func (DuckDialect) DateAdd(unit string, n int, expr string) string {
	u, k := intervalOf(unit, n)
	return fmt.Sprintf("CAST(CAST(%s AS DATE) + INTERVAL (%d) %s AS DATE)", expr, k, u)
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

// Macros is the catalog's BigQuery dialect.
func (BigQueryDialect) Macros() catalog.Dialect { return catalog.BigQuery }

// Date is DATE 'YYYY-MM-DD'.
func (BigQueryDialect) Date(s string) string { return "DATE " + duck.Str(s) }

// DateAdd is DATE_ADD(CAST(expr AS DATE), INTERVAL n UNIT).
func (BigQueryDialect) DateAdd(unit string, n int, expr string) string {
	u, k := intervalOf(unit, n)
	return fmt.Sprintf("DATE_ADD(CAST(%s AS DATE), INTERVAL %d %s)", expr, k, u)
}

// DayOfWeek maps BigQuery's DAYOFWEEK (1 = Sunday) to ISO (1 = Monday).
func (BigQueryDialect) DayOfWeek(expr string) string {
	return fmt.Sprintf("(MOD(EXTRACT(DAYOFWEEK FROM %s) + 5, 7) + 1)", expr)
}
