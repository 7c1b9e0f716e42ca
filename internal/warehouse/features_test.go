package warehouse_test

import (
	"testing"

	"github.com/shoplake/lakehouse/internal/warehouse"
)

func TestLookup(t *testing.T) {
	for _, tc := range []struct{ kind, want string }{{"", "duckdb"}, {"duckdb", "duckdb"}, {"bigquery", "bigquery"}} {
		b, err := warehouse.Lookup(tc.kind)
		if err != nil || b.Kind != tc.want || b.Open == nil {
			t.Errorf("Lookup(%q) = %+v, %v; want the %s backend", tc.kind, b.Kind, err, tc.want)
		}
	}
	if _, err := warehouse.Lookup("postgres"); err == nil || err.Error() != `unknown warehouse "postgres": use duckdb or bigquery` {
		t.Errorf("Lookup(postgres) error = %v", err)
	}
	// The gold tasks and worker sql rely on these claims.
	duck, _ := warehouse.Lookup("duckdb")
	bq, _ := warehouse.Lookup("bigquery")
	if !duck.Features.LocalFile || !duck.Features.LocalSources || bq.Features.LocalFile || bq.Features.LocalSources || !bq.Features.NeedsProject {
		t.Errorf("features: duckdb %+v, bigquery %+v", duck.Features, bq.Features)
	}
	if got := bq.QueryHint("p"); got != "query BigQuery itself, e.g. bq query --use_legacy_sql=false 'SELECT * FROM `p.gold.<mart>` LIMIT 10'" {
		t.Errorf("QueryHint = %s", got)
	}
}
