package gold_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks/gold"
)

// TestBuildAuditsItsInputs: a gold build's audit lists, as its inputs, every lake
// partition its depends_on binds for D, each with its manifest's rows, and rows_in
// is their sum (it was 0). A history dim binds the snapshots on or before D only.
func TestBuildAuditsItsInputs(t *testing.T) {
	env := newEnv(t, shopSpec(t), "inputs1")
	fixture(t, env)
	loadAll(t, env, d)
	ctx := context.Background()
	manifest := func(layer, table, key, value string) audit.IO {
		p := path.Join(lake.PartitionDir(layer, table, key, value), lake.ManifestFile)
		m, _, err := lake.ReadManifest(ctx, env.Lake, p)
		if err != nil {
			t.Fatal(err)
		}
		return audit.IO{URI: env.Lake.URI(p), Rows: m.RowCount}
	}
	const k = "ingestion_dt"
	for _, tc := range []struct {
		mart string
		want []audit.IO
	}{
		// depends_on: silver.orders, silver.order_items, enriched.cart_attribution,
		// enriched.payment_reconciliation: every committed partition of each.
		{"fct_orders", []audit.IO{
			manifest("silver", "orders", k, d1), manifest("silver", "orders", k, d),
			manifest("silver", "order_items", k, d1), manifest("silver", "order_items", k, d),
			manifest("enriched", "cart_attribution", k, d1), manifest("enriched", "cart_attribution", k, d),
			manifest("enriched", "payment_reconciliation", k, d1), manifest("enriched", "payment_reconciliation", k, d)}},
		// dims.customers_history: the snapshots of D0, D1 and D, not D+1's.
		{"dim_customers", []audit.IO{
			manifest("dims", "customers", "snapshot_dt", d0), manifest("dims", "customers", "snapshot_dt", d1),
			manifest("dims", "customers", "snapshot_dt", d)}},
	} {
		if _, err := gold.Build(ctx, env, gold.BuildOptions{Mart: tc.mart, Partition: d}); err != nil {
			t.Fatalf("gold build %s: %v", tc.mart, err)
		}
		b, err := lake.ReadAll(ctx, env.Lake, audit.AuditPath(d, env.RunID, spec.TaskGoldBuild, tc.mart))
		if err != nil {
			t.Fatal(err)
		}
		var rec audit.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, in := range tc.want {
			sum += in.Rows
		}
		if sum == 0 || rec.RowsIn != sum {
			t.Errorf("%s: rows_in %d, want the inputs' sum %d (> 0)", tc.mart, rec.RowsIn, sum)
		}
		if len(rec.Inputs) != len(tc.want) {
			t.Fatalf("%s: inputs %+v\nwant %+v", tc.mart, rec.Inputs, tc.want)
		}
		for i := range tc.want {
			if rec.Inputs[i] != tc.want[i] {
				t.Errorf("%s: input %d = %+v, want %+v", tc.mart, i, rec.Inputs[i], tc.want[i])
			}
		}
	}
}

// TestBuildWithLookbackAuditsOnlyTheWindow: a mart's depends_on lookback narrows
// its audit's inputs to [D - lookback, D] and the SQL to those rows, and a window
// the SQL already keeps to leaves the mart's rows as they were.
func TestBuildWithLookbackAuditsOnlyTheWindow(t *testing.T) {
	ctx := context.Background()
	rows := map[string]string{}
	inputs := map[string][]string{}
	for _, bounded := range []bool{false, true} {
		fsys := fstest.MapFS{}
		if err := fs.WalkDir(os.DirFS("../../specs/shop"), ".", func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			b, err := fs.ReadFile(os.DirFS("../../specs/shop"), p)
			fsys[p] = &fstest.MapFile{Data: b}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if bounded {
			y := string(fsys["pipeline.yaml"].Data)
			old := "depends_on: [silver.orders, silver.order_items, enriched.cart_attribution, enriched.payment_reconciliation]"
			if strings.Count(y, old) != 1 {
				t.Fatalf("fct_orders depends_on not found in the shop spec")
			}
			y = strings.Replace(y, old, "depends_on: [{table: silver.orders, lookback: 0d}, {table: silver.order_items, lookback: 0d}, {table: enriched.cart_attribution, lookback: 0d}, {table: enriched.payment_reconciliation, lookback: 0d}]", 1)
			fsys["pipeline.yaml"] = &fstest.MapFile{Data: []byte(y)}
		}
		sp, err := spec.Load(fsys, "specs/shop")
		if err != nil {
			t.Fatal(err)
		}
		env := newEnv(t, sp, "lookback1")
		fixture(t, env)
		loadAll(t, env, d)
		if _, err := gold.Build(ctx, env, gold.BuildOptions{Mart: "fct_orders", Partition: d}); err != nil {
			t.Fatalf("gold build fct_orders: %v", err)
		}
		b, err := lake.ReadAll(ctx, env.Lake, audit.AuditPath(d, env.RunID, spec.TaskGoldBuild, "fct_orders"))
		if err != nil {
			t.Fatal(err)
		}
		var rec audit.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprint(bounded)
		for _, in := range rec.Inputs {
			inputs[key] = append(inputs[key], in.URI)
		}
		w := openWarehouse(t, env)
		rows[key] = rowsOf(t, w, "SELECT * FROM gold.fct_orders ORDER BY ALL")
		w.Close()
	}
	if len(inputs["false"]) != 8 || len(inputs["true"]) != 4 {
		t.Errorf("inputs unbounded %d, with 0d lookbacks %d (want 8 and 4):\n%s", len(inputs["false"]), len(inputs["true"]), strings.Join(inputs["true"], "\n"))
	}
	for _, in := range inputs["true"] {
		if !strings.Contains(in, "ingestion_dt="+d+"/") {
			t.Errorf("input outside the window of D: %s", in)
		}
	}
	if rows["true"] != rows["false"] || rows["true"] == "" {
		t.Errorf("rows changed:\nunbounded:\n%s\nbounded:\n%s", rows["false"], rows["true"])
	}
}
