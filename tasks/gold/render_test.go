package gold_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/sqltext"
	"github.com/shoplake/lakehouse/internal/warehouse/bqfake"
	"github.com/shoplake/lakehouse/tasks/gold"
)

// TestRenderSQLIsWhatBuildRuns: the statement RenderSQL gives for BigQuery is,
// byte for byte, the query job gold build submits (tests/sqlcheck relies on it).
func TestRenderSQLIsWhatBuildRuns(t *testing.T) {
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
		if _, err := gold.Load(ctx, env, gold.LoadOptions{Table: tbl, Partition: d}); err != nil {
			t.Fatal(err)
		}
	}
	f.Reset()
	if _, err := gold.Build(ctx, env, gold.BuildOptions{Mart: "fct_order_items", Partition: d}); err != nil {
		t.Fatal(err)
	}
	want, err := gold.RenderSQL(env.Spec, gold.RenderOptions{Mart: "fct_order_items", Partition: d,
		Dialect: sqltext.BigQuery{Project: "proj"}})
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, r := range f.Inserts() {
		if c := r.Job().Configuration; c.Query != nil && !c.DryRun {
			queries = append(queries, c.Query.Query)
		}
	}
	if len(queries) != 1 || queries[0] != want {
		t.Errorf("gold build submitted %d query job(s):\n%s\nRenderSQL gives:\n%s", len(queries), strings.Join(queries, "\n----\n"), want)
	}
}

func TestRenderSQLRefusesBadInput(t *testing.T) {
	s := shopSpec(t)
	for _, o := range []gold.RenderOptions{
		{Mart: "fct_nope", Partition: d, Dialect: sqltext.DuckDB{}},
		{Mart: "fct_orders", Partition: "../x", Dialect: sqltext.DuckDB{}},
	} {
		_, err := gold.RenderSQL(s, o)
		if err == nil || fail.Code(err) != fail.BadUsage {
			t.Errorf("%+v: err = %v (exit %d), want a usage error", o, err, fail.Code(err))
		}
	}
	q, err := gold.RenderSQL(s, gold.RenderOptions{Mart: "fct_orders", Partition: d, Dialect: sqltext.DuckDB{}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q, `FROM "silver"."orders" AS o`) || strings.Contains(q, "{{") {
		t.Errorf("duckdb rendering of fct_orders:\n%s", q)
	}
}
