package warehouse_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/internal/warehouse/bqfake"
	"github.com/shoplake/lakehouse/internal/warehouse/warehousetest"
)

func TestConformanceDuckDB(t *testing.T) {
	warehousetest.Run(t, warehousetest.Harness{
		Open: func(t *testing.T) warehouse.Warehouse {
			w, err := warehouse.Open(context.Background(), warehouse.Config{Kind: warehouse.KindDuckDB,
				Path: filepath.Join(t.TempDir(), "warehouse.duckdb"), Duck: duck.Options{MemoryLimit: "512MB", Threads: 2}})
			if err != nil {
				t.Fatal(err)
			}
			return w
		},
		URI: func(local string) string { return "file://" + local },
	})
}

// gcsOf names local test files as if they were in a bucket; resolveGCS maps back.
func gcsOf(local string) string { return "gs://test-bucket" + local }

func resolveGCS(uri string) (string, error) {
	p, ok := strings.CutPrefix(uri, "gs://test-bucket")
	if !ok {
		return "", fmt.Errorf("not in the test bucket: %s", uri)
	}
	return p, nil
}

func newFake(t *testing.T) *bqfake.Server {
	t.Helper()
	f, err := bqfake.New(resolveGCS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func openBQ(t *testing.T, f *bqfake.Server) *warehouse.BigQuery {
	t.Helper()
	w, err := warehouse.OpenBigQuery(context.Background(), warehouse.Config{Kind: warehouse.KindBigQuery,
		Project: "proj", Location: "EU", Endpoint: f.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestConformanceBigQueryWire(t *testing.T) {
	warehousetest.Run(t, warehousetest.Harness{
		Open: func(t *testing.T) warehouse.Warehouse { return openBQ(t, newFake(t)) },
		URI:  gcsOf,
	})
}
