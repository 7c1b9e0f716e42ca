package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
	"github.com/shoplake/lakehouse/specs"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/generate"
	"github.com/shoplake/lakehouse/tasks/pipeline"
)

// The full recomputations the incremental transforms must equal: the as-of SQL the
// reference spec had before, over all history, each order by its latest version up
// to D (silver.orders_latest), NULL statuses counted apart.
var references = map[string]string{
	"customer_ltv": `
WITH orders AS (
    SELECT order_id, customer_id, order_ts, status, total_amount FROM silver.orders_latest
),
order_stats AS (
    SELECT customer_id,
           count(*) FILTER (WHERE status <> 'cancelled') AS order_count,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled_order_count,
           count(*) FILTER (WHERE status IS NULL) AS unknown_status_order_count,
           coalesce(sum(total_amount) FILTER (WHERE status <> 'cancelled'), 0) AS lifetime_revenue,
           min(order_ts) FILTER (WHERE status <> 'cancelled') AS first_order_ts,
           max(order_ts) FILTER (WHERE status <> 'cancelled') AS last_order_ts
    FROM orders GROUP BY customer_id
),
return_stats AS (
    SELECT o.customer_id, count(*) AS return_count, coalesce(sum(r.refund_amount), 0) AS refund_total
    FROM silver.returns AS r JOIN orders AS o USING (order_id)
    WHERE r.ingestion_dt <= {{ partition }}
    GROUP BY o.customer_id
)
SELECT customer_id, c.country, c.signup_ts,
       coalesce(o.order_count, 0) AS order_count,
       coalesce(o.cancelled_order_count, 0) AS cancelled_order_count,
       coalesce(o.unknown_status_order_count, 0) AS unknown_status_order_count,
       coalesce(o.lifetime_revenue, 0) AS lifetime_revenue,
       coalesce(r.return_count, 0) AS return_count,
       coalesce(r.refund_total, 0) AS refund_total,
       coalesce(o.lifetime_revenue, 0) - coalesce(r.refund_total, 0) AS net_revenue,
       {{ money_divide "o.lifetime_revenue" "NULLIF(o.order_count, 0)" }} AS avg_order_value,
       o.first_order_ts, o.last_order_ts
FROM dims.customers AS c
FULL JOIN order_stats AS o USING (customer_id)
LEFT JOIN return_stats AS r USING (customer_id)`,
	"customer_activity": `
SELECT customer_id, CAST(date_trunc('month', order_ts) AS DATE) AS activity_month,
       count(*) AS order_count, sum(total_amount) AS revenue
FROM silver.orders_latest
WHERE status <> 'cancelled'
GROUP BY ALL`,
	"customer_rfm": `
WITH stats AS (
    SELECT customer_id, max(order_ts) AS last_order_ts, count(*) AS frequency, sum(total_amount) AS monetary
    FROM silver.orders_latest WHERE status <> 'cancelled' GROUP BY customer_id
),
recency AS (SELECT *, date_diff('day', CAST(last_order_ts AS DATE), {{ partition }}) AS recency_days FROM stats),
scored AS (
    SELECT *,
           5 - least(4, CAST(floor(5 * percent_rank() OVER (ORDER BY recency_days)) AS INTEGER)) AS r_score,
           5 - least(4, CAST(floor(5 * percent_rank() OVER (ORDER BY frequency DESC)) AS INTEGER)) AS f_score,
           5 - least(4, CAST(floor(5 * percent_rank() OVER (ORDER BY monetary DESC)) AS INTEGER)) AS m_score
    FROM recency
)
SELECT customer_id, last_order_ts, recency_days, frequency, monetary, r_score, f_score, m_score,
       concat(r_score, f_score, m_score) AS rfm_cell,
       CASE WHEN r_score >= 4 AND f_score >= 4 THEN 'champion'
            WHEN r_score >= 3 AND f_score >= 3 THEN 'loyal'
            WHEN r_score >= 4 THEN 'promising'
            WHEN r_score <= 2 AND f_score >= 3 THEN 'at_risk'
            ELSE 'hibernating' END AS segment
FROM scored`,
	"cohort_retention": `
WITH cohorts AS (
    SELECT customer_id, CAST(date_trunc('month', signup_ts) AS DATE) AS cohort_month
    FROM dims.customers WHERE signup_ts IS NOT NULL AND CAST(signup_ts AS DATE) <= {{ partition }}
),
sizes AS (SELECT cohort_month, count(*) AS cohort_size FROM cohorts GROUP BY cohort_month),
grid AS (
    SELECT cohort_month, cohort_size,
           CAST(unnest(generate_series(CAST(cohort_month AS TIMESTAMP), CAST(date_trunc('month', {{ partition }}) AS TIMESTAMP), INTERVAL 1 MONTH)) AS DATE) AS activity_month
    FROM sizes
),
activity AS (
    SELECT c.cohort_month, CAST(date_trunc('month', o.order_ts) AS DATE) AS activity_month,
           count(DISTINCT o.customer_id) AS active_customers, count(*) AS order_count, sum(o.total_amount) AS revenue
    FROM silver.orders_latest AS o JOIN cohorts AS c USING (customer_id)
    WHERE o.status <> 'cancelled'
    GROUP BY ALL
)
SELECT g.cohort_month, g.activity_month, date_diff('month', g.cohort_month, g.activity_month) AS months_since_signup,
       g.cohort_size, coalesce(a.active_customers, 0) AS active_customers,
       round(coalesce(a.active_customers, 0) / g.cohort_size, 4) AS retention_rate,
       coalesce(a.order_count, 0) AS order_count, coalesce(a.revenue, 0) AS revenue
FROM grid AS g LEFT JOIN activity AS a USING (cohort_month, activity_month)`,
}

// TestIncrementalEqualsFullRecomputation runs 30 generated days (orders change
// status one or two days later) through silver and the as-of transforms, then
// checks every day's partition of each against its full recomputation; then
// rebuilds the last ten days from day 21 on, in order, and checks again.
func TestIncrementalEqualsFullRecomputation(t *testing.T) {
	if testing.Short() {
		t.Skip("30 days of pipeline")
	}
	ctx := context.Background()
	full, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := lake.NewLocal(filepath.Join(dir, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	const days = 30
	env := &tasks.Env{Spec: full, Lake: l, Log: slog.New(slog.DiscardHandler), RunID: "gen",
		Duck: duck.Options{MemoryLimit: "1GB", Threads: 2}, WorkDir: dir, Version: "test"}
	if _, err := generate.Run(ctx, env, generate.Options{Days: days, Start: start, Scale: 0.0005, Seed: 30}); err != nil {
		t.Fatal(err)
	}
	env.Spec = trimmed(full, "customer_ltv", "customer_activity", "customer_rfm", "cohort_retention")
	dates, err := pipeline.Dates(start.Format(time.DateOnly), start.AddDate(0, 0, days-1).Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	run := func(runID string, parts []string, from string) {
		t.Helper()
		env.RunID = runID
		res, err := pipeline.Run(ctx, env, pipeline.Options{Partitions: parts, From: from, To: spec.LayerEnriched})
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
	}
	run("first", dates, "")
	compare(t, env, dates)

	// Cross-day versions exist in the data, and each order counts once.
	entries, err := generate.ReadLedger(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	versions := 0
	for _, e := range entries {
		if e.Table == "orders" && e.Outcome == generate.OutcomeLaterVersion {
			versions++
		}
	}
	if versions < days {
		t.Fatalf("only %d later versions of orders in %d days: the comparison does not cover them", versions, days)
	}

	// A backfill from day 21 rebuilds it and every later day in order.
	run("backfill", dates[20:], spec.LayerEnriched)
	compare(t, env, dates)
	for _, d := range dates {
		m, _, err := lake.ReadManifest(ctx, l, filepath.ToSlash(filepath.Join(lake.PartitionDir(lake.Enriched, "customer_ltv", "ingestion_dt", d), lake.ManifestFile)))
		if err != nil {
			t.Fatal(err)
		}
		want := "first"
		if d >= dates[20] {
			want = "backfill"
		}
		if m.RunID != want {
			t.Errorf("customer_ltv %s is committed by run %s, want %s", d, m.RunID, want)
		}
	}
}

// compare checks, for every day, each transform's committed partition against its
// reference (as multisets of rows) and that customer_ltv counts each order once.
func compare(t *testing.T, env *tasks.Env, dates []string) {
	t.Helper()
	ctx := context.Background()
	for _, d := range dates {
		s, err := duck.Open(ctx, env.Duck)
		if err != nil {
			t.Fatal(err)
		}
		cat := &catalog.Catalog{Spec: env.Spec, Lake: env.Lake, Partition: d, WorkDir: t.TempDir()}
		refs := []spec.Ref{{Layer: "silver", Name: "orders"}, {Layer: "silver", Name: "orders_latest"}, {Layer: "silver", Name: "returns"},
			{Layer: "dims", Name: "customers"}}
		for name := range references {
			refs = append(refs, spec.Ref{Layer: "enriched", Name: name})
		}
		if _, err := cat.Bind(ctx, s, refs...); err != nil {
			t.Fatal(err)
		}
		for _, name := range slices.Sorted(maps.Keys(references)) {
			ref, err := catalog.Render(name, references[name], sqltext.DuckDB{}, d)
			if err != nil {
				t.Fatal(err)
			}
			built := fmt.Sprintf("SELECT * EXCLUDE (ingestion_dt) FROM enriched.%s WHERE ingestion_dt = DATE '%s'", name, d)
			if name == "customer_ltv" {
				built = fmt.Sprintf("SELECT * EXCLUDE (ingestion_dt, settled_first_order_ts, settled_last_order_ts) FROM enriched.%s WHERE ingestion_dt = DATE '%s'", name, d)
			}
			for _, q := range []struct{ what, sql string }{
				{"built, not in the recomputation", "(" + built + ") EXCEPT ALL (" + ref + ")"},
				{"recomputed, not built", "(" + ref + ") EXCEPT ALL (" + built + ")"},
			} {
				rows := strings.Join(queryRows(t, s, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ("+q.sql+") LIMIT 3"), "\n  ")
				if rows != "" {
					t.Errorf("%s %s: rows %s:\n  %s", name, d, q.what, rows)
				}
			}
			if n := queryRows(t, s, "SELECT CAST(count(*) AS VARCHAR) FROM ("+built+")"); n[0] == "0" {
				t.Errorf("%s %s: no rows: the comparison is vacuous", name, d)
			}
		}
		counted := queryRows(t, s, fmt.Sprintf(`SELECT CAST(sum(order_count + cancelled_order_count + unknown_status_order_count) AS VARCHAR)
			FROM enriched.customer_ltv WHERE ingestion_dt = DATE '%s'`, d))
		distinct := queryRows(t, s, "SELECT CAST(count(DISTINCT order_id) AS VARCHAR) FROM silver.orders WHERE ingestion_dt <= DATE '"+d+"'")
		if !slices.Equal(counted, distinct) {
			t.Errorf("customer_ltv %s counts %v orders, silver holds %v distinct orders up to D", d, counted, distinct)
		}
		s.Close()
	}
}

// queryRows returns each row of q as its values joined by " | " (NULL as NULL).
func queryRows(t *testing.T, s *duck.Session, q string) []string {
	t.Helper()
	rows, err := s.Conn.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = "NULL"
			if v != nil {
				cells[i] = *v
			}
		}
		out = append(out, strings.Join(cells, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// trimmed is the shop spec with only the silver tables, dims and transforms the
// named transforms need, and no gold: fewer steps per day, the same SQL.
func trimmed(s *spec.Spec, transforms ...string) *spec.Spec {
	out := *s
	out.Gold = spec.Gold{}
	keep := map[string]bool{"customers": true, "products": true, "orders": true, "returns": true}
	out.BaseSilver.Tables = nil
	for _, t := range s.BaseSilver.Tables {
		if keep[t.Name] {
			out.BaseSilver.Tables = append(out.BaseSilver.Tables, t)
		}
	}
	out.Bronze.Tables = nil
	for _, t := range s.Bronze.Tables {
		if keep[t.Name] {
			out.Bronze.Tables = append(out.Bronze.Tables, t)
		}
	}
	out.Enriched.Transforms = nil
	for _, t := range s.Enriched.Transforms {
		if slices.Contains(transforms, t.Name) {
			out.Enriched.Transforms = append(out.Enriched.Transforms, t)
		}
	}
	return &out
}
