package catalog_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/catalog/catalogtest"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
)

func queryFixture(t *testing.T) *fixture {
	f := newFixture(t)
	catalogtest.Silver(t, f.l, f.sp, "orders", "2026-11-20", `
order_id | customer_id | amount
O1       | C1          | 10.50
O2       | NULL        | 2.00`)
	catalogtest.Dim(t, f.l, f.sp, "customers", "2026-11-19", `
customer_id | tier
C1          | gold`)
	return f
}

func runQuery(t *testing.T, f *fixture, d, q string, format catalog.Format) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cat := &catalog.Catalog{Spec: f.sp, Lake: f.l, Partition: d, WorkDir: t.TempDir()}
	err := cat.Query(context.Background(), duck.Options{MemoryLimit: "256MB", Threads: 1}, q, format, &out)
	return out.String(), err
}

func TestQueryPrintsEachFormat(t *testing.T) {
	f := queryFixture(t)
	q := `SELECT o.order_id, o.customer_id, c.tier, o.amount, {{ partition }} AS d
FROM silver.orders o LEFT JOIN dims.customers c USING (customer_id) ORDER BY 1;`
	for _, tc := range []struct {
		format catalog.Format
		want   string
	}{
		{catalog.FormatTable, `order_id  customer_id  tier  amount  d
--------  -----------  ----  ------  ----------
O1        C1           gold  10.50   2026-11-20
O2        NULL         NULL  2.00    2026-11-20
(2 rows)
`},
		{catalog.FormatCSV, `order_id,customer_id,tier,amount,d
O1,C1,gold,10.50,2026-11-20
O2,,,2.00,2026-11-20
`},
		{catalog.FormatJSON, `[
  {"order_id":"O1","customer_id":"C1","tier":"gold","amount":10.5,"d":"2026-11-20"},
  {"order_id":"O2","customer_id":null,"tier":null,"amount":2.0,"d":"2026-11-20"}
]
`},
	} {
		got, err := runQuery(t, f, "2026-11-20", q, tc.format)
		if err != nil || got != tc.want {
			t.Errorf("%s: err %v, output:\n%s\nwant:\n%s", tc.format, err, got, tc.want)
		}
	}
	// Before the snapshot, dims.customers is empty.
	got, err := runQuery(t, f, "2026-11-18", "SELECT count(*) AS n FROM dims.customers", catalog.FormatCSV)
	if err != nil || got != "n\n0\n" {
		t.Errorf("dims before the snapshot: %q, %v", got, err)
	}
}

func TestQueryRefusesWrites(t *testing.T) {
	f := queryFixture(t)
	for _, q := range []string{
		"DROP VIEW silver.orders",
		"CREATE TABLE x AS SELECT 1",
		"COPY (SELECT 1) TO 'x.csv'",
		"SELECT 1; DROP VIEW silver.orders",
		"ATTACH 'x.db'",
		"SET threads = 1",
		"",
		"SELECT * FROM silver.nope",
		"SELECT {{ nope }}",
	} {
		out, err := runQuery(t, f, "2026-11-20", q, catalog.FormatTable)
		if fail.Code(err) != fail.BadUsage || out != "" {
			t.Errorf("%q: err = %v (code %d), output %q; want a usage error and no output", q, err, fail.Code(err), out)
		}
	}
	out, err := runQuery(t, f, "2026-11-20", "SELECT count(*) AS n FROM silver.orders", catalog.FormatCSV)
	if err != nil || out != "n\n2\n" {
		t.Errorf("after the refusals: %q, %v", out, err)
	}
	if _, err := catalog.ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("ParseFormat(xml) = %v", err)
	}
}
