package gold_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/warehouse/bqfake"
	"github.com/shoplake/lakehouse/tasks/gold"
)

// gsLake shows a local lake as the bucket gs://test-bucket, as the GCS lake would.
type gsLake struct{ lake.Lake }

func (gsLake) URI(p string) string { return "gs://test-bucket/" + p }

// TestGoldTasksOnBigQueryWire runs gold load and gold build as tasks against the
// recording BigQuery server: the dims snapshots a mart reads are loaded into
// dims.products$YYYYMMDD, and the mart's query reads project-qualified names.
func TestGoldTasksOnBigQueryWire(t *testing.T) {
	env := newEnv(t, shopSpec(t), "bq1")
	local := env.Lake.(*lake.Local)
	env.Lake = gsLake{local}
	fixture(t, env)
	f, err := bqfake.New(func(uri string) (string, error) {
		p, ok := strings.CutPrefix(uri, "gs://test-bucket/")
		if !ok {
			return "", fmt.Errorf("not in the test bucket: %s", uri)
		}
		return filepath.Join(local.Root(), filepath.FromSlash(p)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env.Warehouse.Kind, env.Warehouse.Project, env.Warehouse.Location, env.Warehouse.Endpoint = "bigquery", "proj", "EU", f.Endpoint()
	ctx := context.Background()
	for _, tbl := range []string{"silver.orders", "silver.order_items"} {
		rec, err := gold.Load(ctx, env, gold.LoadOptions{Table: tbl, Partition: d})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(rec.Outputs[0].URI, "bigquery://proj/"+tbl+"$20261120") || rec.RowsOut != rec.RowsIn {
			t.Errorf("load %s audit: %+v", tbl, rec)
		}
	}
	f.Reset()
	rec, err := gold.Build(ctx, env, gold.BuildOptions{Mart: "fct_order_items", Partition: d})
	if err != nil {
		t.Fatal(err)
	}
	if rec.RowsOut != 4 {
		t.Errorf("fct_order_items: %d rows, want 4", rec.RowsOut)
	}
	var loads, queries []string
	for _, r := range f.Inserts() {
		c := r.Job().Configuration
		switch {
		case c.Load != nil:
			loads = append(loads, c.Load.DestinationTable.DatasetId+"."+c.Load.DestinationTable.TableId+" "+strings.Join(c.Load.SourceUris, ","))
		case c.Query != nil:
			queries = append(queries, c.Query.Query)
			if dt := c.Query.DestinationTable; dt.DatasetId != "gold" || dt.TableId != "fct_order_items$20261120" {
				t.Errorf("mart destination = %+v", dt)
			}
			if r.Job().JobReference.JobId != "gold_build_gold_fct_order_items_20261120_bq1" {
				t.Errorf("mart job id = %s", r.Job().JobReference.JobId)
			}
		}
	}
	// Only the products snapshot on or before D (D0), not D+1's.
	wantLoad := "dims.products$20261118 gs://test-bucket/dims/products/snapshot_dt=2026-11-18/run=bq1/part-00000.parquet"
	if len(loads) != 1 || loads[0] != wantLoad {
		t.Errorf("dims loads = %v, want [%s]", loads, wantLoad)
	}
	if len(queries) != 1 {
		t.Fatalf("query jobs = %d, want 1", len(queries))
	}
	q := queries[0]
	for _, want := range []string{"FROM `proj.silver.order_items` AS i", "LEFT JOIN `proj.silver.orders` AS o",
		"LEFT JOIN (SELECT * FROM `proj.dims.products` WHERE snapshot_dt = (SELECT MAX(snapshot_dt) FROM `proj.dims.products` WHERE snapshot_dt <= DATE '2026-11-20')) AS p",
		"SELECT DATE '2026-11-20' AS order_date"} {
		if !strings.Contains(q, want) {
			t.Errorf("query lacks %q:\n%s", want, q)
		}
	}
	var code []string // the query without its comment lines
	for _, line := range strings.Split(q, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			code = append(code, line)
		}
	}
	if c := strings.Join(code, "\n"); strings.Contains(c, "{{") || strings.Contains(c, " silver.") || strings.Contains(c, " dims.") {
		t.Errorf("query has unbound names or macros:\n%s", q)
	}
	rows, err := func() (string, error) {
		w, err := gold.Open(ctx, env)
		if err != nil {
			return "", err
		}
		defer w.Close()
		r, err := w.Query(ctx, "SELECT order_id, line_no, category, line_amount FROM `proj.gold.fct_order_items` ORDER BY 1, 2")
		if err != nil {
			return "", err
		}
		return fmt.Sprint(r.Values), nil
	}()
	if err != nil {
		t.Fatal(err)
	}
	if want := "[[o1 1 apparel 75] [o1 2 home 25] [o2 1 apparel 50] [o3 1 home 30]]"; rows != want {
		t.Errorf("fct_order_items in the fake = %s, want %s", rows, want)
	}
}
