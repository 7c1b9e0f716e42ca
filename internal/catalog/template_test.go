package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/catalog/catalogtest"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/sqltext"
)

func TestMacrosRenderPerDialect(t *testing.T) {
	for _, tc := range []struct {
		src, duckdb, bigquery string
	}{
		{`{{ partition }}`, `DATE '2026-11-20'`, `DATE '2026-11-20'`},
		{`{{ date_trunc "month" "order_ts" }}`, `date_trunc('month', order_ts)`, `DATE_TRUNC(order_ts, MONTH)`},
		{`{{ date_trunc "Week" "o.order_ts" }}`, `date_trunc('week', o.order_ts)`, `DATE_TRUNC(o.order_ts, WEEK)`},
		{`{{ date_diff "day" "a" "b" }}`, `date_diff('day', a, b)`, `DATE_DIFF(b, a, DAY)`},
		{`{{ date_diff "day" "CAST(ts AS DATE)" partition }}`, `date_diff('day', CAST(ts AS DATE), DATE '2026-11-20')`, `DATE_DIFF(DATE '2026-11-20', CAST(ts AS DATE), DAY)`},
		{`{{ safe_divide "a" "b" }}`, `(a) / NULLIF(b, 0)`, `SAFE_DIVIDE(a, b)`},
		{`{{ safe_divide "coalesce(x, 0)" "n - 1" }}`, `(coalesce(x, 0)) / NULLIF(n - 1, 0)`, `SAFE_DIVIDE(coalesce(x, 0), n - 1)`},
		{`{{ money_divide "r" "n" }}`, `CAST((2 * abs(CAST((r) * 100 AS BIGINT)) + abs(CAST(n AS BIGINT))) // NULLIF(2 * abs(CAST(n AS BIGINT)), 0) * sign(CAST((r) * 100 AS BIGINT)) * sign(CAST(n AS BIGINT)) * 0.01 AS DECIMAL(18,2))`,
			"CAST(DIV(2 * ABS(CAST((r) * 100 AS INT64)) + ABS(CAST(n AS INT64)), NULLIF(2 * ABS(CAST(n AS INT64)), 0)) * SIGN(CAST((r) * 100 AS INT64)) * SIGN(CAST(n AS INT64)) AS NUMERIC) / 100"},
		{"SELECT 1 -- no macro here", "SELECT 1 -- no macro here", "SELECT 1 -- no macro here"},
	} {
		for _, d := range []struct {
			dialect sqltext.Dialect
			want    string
		}{{sqltext.DuckDB{}, tc.duckdb}, {sqltext.BigQuery{Project: "p"}, tc.bigquery}} {
			got, err := catalog.Render("sql/x.sql", tc.src, d.dialect, "2026-11-20")
			if err != nil || got != d.want {
				t.Errorf("%s %s = %q, %v; want %q", d.dialect.Name(), tc.src, got, err, d.want)
			}
		}
	}
}

// The DuckDB renderings compute what they promise.
func TestMacrosRunInDuckDB(t *testing.T) {
	src := `SELECT {{ partition }} AS d,
  {{ date_trunc "month" "TIMESTAMP '2026-11-20 10:30:00'" }} AS month_start,
  {{ date_diff "day" "DATE '2026-11-01'" partition }} AS days,
  {{ safe_divide "7" "2" }} AS half,
  {{ safe_divide "7" "0" }} AS by_zero`
	q, err := catalog.Render("sql/x.sql", src, sqltext.DuckDB{}, "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	s, err := duck.Open(context.Background(), duck.Options{MemoryLimit: "128MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	catalogtest.Equal(t, catalogtest.QueryText(t, s.Conn, q), `
d          | month_start         | days | half | by_zero
2026-11-20 | 2026-11-01 00:00:00 | 19   | 3.5  | NULL`)
}

// TestMoneyDivideRoundsCentsExactly: money_divide gives DECIMAL(18,2) rounded half
// away from zero, where a DOUBLE's round() depends on the float (2.675 is 2.67499..).
func TestMoneyDivideRoundsCentsExactly(t *testing.T) {
	src := `SELECT {{ money_divide "CAST(8.05 AS DECIMAL(12,2))" "2" }} AS half_up,
  {{ money_divide "CAST(-8.05 AS DECIMAL(12,2))" "2" }} AS half_down,
  {{ money_divide "CAST(5.35 AS DECIMAL(12,2))" "2" }} AS a2675,
  {{ money_divide "CAST(10 AS DECIMAL(12,2))" "3" }} AS third,
  {{ money_divide "CAST(20 AS DECIMAL(38,2))" "3" }} AS two_thirds,
  {{ money_divide "CAST(1 AS DECIMAL(12,2))" "0" }} AS by_zero,
  typeof({{ money_divide "CAST(1 AS DECIMAL(12,2))" "3" }}) AS type`
	q, err := catalog.Render("sql/x.sql", src, sqltext.DuckDB{}, "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	s, err := duck.Open(context.Background(), duck.Options{MemoryLimit: "128MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	catalogtest.Equal(t, catalogtest.QueryText(t, s.Conn, q), `
half_up | half_down | a2675 | third | two_thirds | by_zero | type
4.03    | -4.03     | 2.68  | 3.33  | 6.67       | NULL    | DECIMAL(18,2)`)
	if _, err := catalog.Render("sql/x.sql", "SELECT * FROM {{ previous }}", sqltext.DuckDB{}, "2026-11-20"); err == nil || !strings.Contains(err.Error(), "incremental") {
		t.Errorf("{{ previous }} outside an incremental transform: err = %v", err)
	}
	q, err = catalog.RenderIncremental("sql/x.sql", "SELECT * FROM {{ previous }}", sqltext.DuckDB{}, "2026-11-20", `"previous"."x"`)
	if err != nil || q != `SELECT * FROM "previous"."x"` {
		t.Errorf("RenderIncremental = %q, %v", q, err)
	}
}

func TestBadMacrosNameTheFile(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`SELECT {{ date_add "day" "a" }}`, `function "date_add" not defined`},
		{`SELECT {{ date_trunc "fortnight" "a" }}`, `unknown unit "fortnight"`},
		{`SELECT {{ date_trunc "month" }}`, `wrong number of args for date_trunc`},
		{`SELECT {{ safe_divide "a" "b" "c" }}`, `wrong number of args for safe_divide`},
		{`SELECT {{ safe_divide "a; DROP TABLE x" "b" }}`, `contains ";"`},
		{`SELECT {{ date_diff "day" "a, b" "c" }}`, `top-level ","`},
		{`SELECT {{ partition`, `unclosed action`},
		{`SELECT {{ .Table }}`, `Table`},
	} {
		_, err := catalog.Render("specs/shop/sql/x.sql", tc.src, sqltext.DuckDB{}, "2026-11-20")
		if err == nil || !strings.Contains(err.Error(), "specs/shop/sql/x.sql") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("render %s: err = %v; want one naming the file and %q", tc.src, err, tc.want)
		}
	}
	if _, err := catalog.Render("sql/x.sql", "SELECT 1", sqltext.DuckDB{}, "20261120"); err == nil || !strings.Contains(err.Error(), "sql/x.sql") {
		t.Errorf("bad partition: err = %v", err)
	}
}
