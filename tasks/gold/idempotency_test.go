package gold_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks/gold"
)

// TestLoadAndBuildThreeTimes: loading and building the same partition three times
// leaves one copy, with the same row count and checksum, and D-1 untouched.
func TestLoadAndBuildThreeTimes(t *testing.T) {
	env := newEnv(t, shopSpec(t), "idem1")
	fixture(t, env)
	loadAll(t, env, d1)
	build(t, env, "fct_orders", d1)
	state := func() string {
		w := openWarehouse(t, env)
		defer w.Close()
		return rowsOf(t, w, `SELECT 'silver', CAST(ingestion_dt AS VARCHAR), COUNT(*), SUM(total_amount), string_agg(order_id, ',' ORDER BY order_id)
			FROM silver.orders GROUP BY ALL
			UNION ALL SELECT 'gold', CAST(order_date AS VARCHAR), COUNT(*), SUM(total_amount + captured_amount + units), string_agg(order_id || channel, ',' ORDER BY order_id)
			FROM gold.fct_orders GROUP BY ALL ORDER BY 1, 2`)
	}
	var first string
	for i := 1; i <= 3; i++ {
		// Each attempt another run, as a retried or re-triggered task would be.
		env.RunID = "idem" + string(rune('0'+i))
		if _, err := gold.Load(context.Background(), env, gold.LoadOptions{Table: "silver.orders", Partition: d}); err != nil {
			t.Fatal(err)
		}
		loadAll(t, env, d)
		if n := build(t, env, "fct_orders", d); n != 3 {
			t.Errorf("build #%d wrote %d rows, want 3", i, n)
		}
		got := state()
		if i == 1 {
			first = got
			want := "[gold 2026-11-19 1 41 o0social]\n[gold 2026-11-20 3 285 o1email,o2direct,o3direct]\n" +
				"[silver 2026-11-19 1 20 o0]\n[silver 2026-11-20 3 180 o1,o2,o3]"
			if got != want {
				t.Fatalf("after the first load and build:\n%s\nwant:\n%s", got, want)
			}
		} else if got != first {
			t.Errorf("after load and build #%d:\n%s\nwant the same as the first:\n%s", i, got, first)
		}
	}
}

// TestBackfillOrder: building D-2, D-1 and D in any order gives the same marts.
func TestBackfillOrder(t *testing.T) {
	marts := func(day string) []string {
		ms := []string{"dim_customers", "dim_products", "dim_date"}
		if day != d0 { // silver and enriched start on D-1
			ms = append(ms, "fct_orders", "fct_order_items", "fct_payments")
		}
		return ms
	}
	dump := func(orders []string) map[string]string {
		env := newEnv(t, shopSpec(t), "bf1")
		fixture(t, env)
		for _, day := range orders {
			if day != d0 {
				loadAll(t, env, day)
			}
			for _, m := range marts(day) {
				build(t, env, m, day)
			}
		}
		w := openWarehouse(t, env)
		defer w.Close()
		out := map[string]string{}
		for _, m := range marts(d) {
			out[m] = rowsOf(t, w, "SELECT * FROM gold."+m+" ORDER BY ALL")
		}
		return out
	}
	inOrder := dump([]string{d0, d1, d})
	for _, order := range [][]string{{d, d0, d1}, {d1, d, d0}} {
		got := dump(order)
		for m, want := range inOrder {
			if got[m] != want {
				t.Errorf("order %v: %s differs:\n%s\nin date order:\n%s", order, m, got[m], want)
			}
		}
	}
	if n := strings.Count(inOrder["dim_customers"], "\n") + 1; n != 2+3+5 {
		t.Errorf("dim_customers holds %d rows over the three days, want 2 + 3 + 5", n)
	}
}

// TestAuditLoadsOpsTable: gold audit loads every audit and report of the
// partition into ops.ops_task_audit, replacing the partition, and the README's
// SLA queries run on it.
func TestAuditLoadsOpsTable(t *testing.T) {
	env := newEnv(t, shopSpec(t), "audit1")
	fixture(t, env)
	loadAll(t, env, d)
	build(t, env, "fct_orders", d)
	if _, err := gold.Build(context.Background(), env, gold.BuildOptions{Mart: "fct_orders", Partition: "2026-11-20x"}); fail.Code(err) != fail.BadUsage {
		t.Errorf("a bad partition: exit %d, want 2", fail.Code(err))
	}
	for i := 0; i < 2; i++ {
		rec, err := gold.Audit(context.Background(), env, gold.AuditOptions{Partition: d})
		if err != nil {
			t.Fatal(err)
		}
		// 10 loads + 1 build, plus the first audit run's own record the second time.
		if want := int64(11 + i); rec.RowsOut != want {
			t.Errorf("audit #%d loaded %d rows, want %d", i+1, rec.RowsOut, want)
		}
	}
	w := openWarehouse(t, env)
	defer w.Close()
	got := rowsOf(t, w, `SELECT task, kind, status, COUNT(*) FROM ops.ops_task_audit WHERE dt = DATE '2026-11-20' GROUP BY ALL ORDER BY ALL`)
	if want := "[gold.audit audit success 1]\n[gold.build audit success 1]\n[gold.load audit success 10]"; got != want {
		t.Errorf("ops_task_audit:\n%s\nwant:\n%s", got, want)
	}
	for _, q := range []string{slaLateQuery, slaTaskQuery} {
		if _, err := w.Query(context.Background(), strings.ReplaceAll(q, "`project.ops.ops_task_audit`", "ops.ops_task_audit")); err != nil {
			t.Errorf("SLA query fails: %v\n%s", err, q)
		}
	}
}

// The README's example SLA queries (BigQuery spelling; DuckDB reads ops.ops_task_audit).
const slaLateQuery = "SELECT dt, MAX(finished_at) AS gold_done\n" +
	"FROM `project.ops.ops_task_audit`\n" +
	"WHERE kind = 'audit' AND task = 'gold.build' AND status = 'success'\n" +
	"GROUP BY dt\n" +
	"HAVING MAX(finished_at) > CAST(dt AS TIMESTAMP) + INTERVAL 30 HOUR\n" +
	"ORDER BY dt"

const slaTaskQuery = "SELECT task, COUNT(*) AS runs,\n" +
	"       SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failures,\n" +
	"       MAX(duration_ms) AS slowest_ms\n" +
	"FROM `project.ops.ops_task_audit`\n" +
	"WHERE kind = 'audit' AND dt >= DATE '2026-11-01'\n" +
	"GROUP BY task\n" +
	"ORDER BY failures DESC, slowest_ms DESC"

// A mart whose SQL puts a row in another partition fails with exit 3 and
// leaves the mart as it was.
func TestBuildRowOutsidePartitionIsBadData(t *testing.T) {
	s := shopSpec(t)
	env := newEnv(t, s, "out1")
	fixture(t, env)
	loadAll(t, env, d)
	build(t, env, "fct_payments", d)
	m, _ := s.Mart("fct_payments")
	s.SQL[m.SQL] = strings.Replace(s.SQL[m.SQL], "SELECT {{ partition }} AS order_date", "SELECT DATE '2026-11-19' AS order_date", 1)
	_, err := gold.Build(context.Background(), env, gold.BuildOptions{Mart: "fct_payments", Partition: d})
	if fail.Code(err) != fail.BadData || !errors.Is(err, warehouse.ErrOutsidePartition) {
		t.Fatalf("err = %v (exit %d), want rows outside the partition, exit 3", err, fail.Code(err))
	}
	w := openWarehouse(t, env)
	defer w.Close()
	if got := rowsOf(t, w, "SELECT CAST(order_date AS VARCHAR), COUNT(*) FROM gold.fct_payments GROUP BY ALL"); got != "[2026-11-20 3]" {
		t.Errorf("fct_payments after the failed build: %s", got)
	}
}

func TestLoadErrors(t *testing.T) {
	env := newEnv(t, shopSpec(t), "err1")
	for _, tc := range []struct {
		table, partition string
		code             int
	}{
		{"orders", d, fail.BadUsage},
		{"silver.nosuch", d, fail.BadUsage},
		{"gold.fct_orders", d, fail.BadUsage},
		{"dims.customers_history", d, fail.BadUsage},
		{"silver.orders", "../x", fail.BadUsage},
		{"silver.orders", d, fail.BadData}, // not published
	} {
		_, err := gold.Load(context.Background(), env, gold.LoadOptions{Table: tc.table, Partition: tc.partition})
		if fail.Code(err) != tc.code {
			t.Errorf("load %s %s: exit %d (%v), want %d", tc.table, tc.partition, fail.Code(err), err, tc.code)
		}
	}
	env.Warehouse.Kind = "bigquery"
	if _, err := gold.Open(context.Background(), env); fail.Code(err) != fail.BadUsage || !strings.Contains(err.Error(), "--bq-project") {
		t.Errorf("bigquery without a project: %v", err)
	}
	if !reflect.DeepEqual(gold.AuditTable.ClusterBy, []string{"task"}) {
		t.Errorf("ops_task_audit clustering = %v", gold.AuditTable.ClusterBy)
	}
}

// A mart whose SQL reads a file outside the task's folders (past lint, which
// refuses it too) fails with exit 2 by the warehouse session's sandbox, and the
// file's content reaches no table.
func TestBuildSandboxRefusesFiles(t *testing.T) {
	s := shopSpec(t)
	env := newEnv(t, s, "sbx1")
	fixture(t, env)
	loadAll(t, env, d)
	m, _ := s.Mart("fct_payments")
	s.SQL[m.SQL] = strings.Replace(s.SQL[m.SQL], "SELECT {{ partition }} AS order_date",
		"SELECT {{ partition }} AS order_date, (SELECT content FROM read_text('/etc/passwd')) AS leak", 1)
	_, err := gold.Build(context.Background(), env, gold.BuildOptions{Mart: "fct_payments", Partition: d})
	if fail.Code(err) != fail.BadUsage || !strings.Contains(err.Error(), "/etc/passwd") || !strings.Contains(err.Error(), "sandbox") {
		t.Fatalf("err = %v (exit %d), want the sandbox's refusal, exit 2", err, fail.Code(err))
	}
}
