package warehouse_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/faultproxy"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/internal/warehouse/bqfake"
	"github.com/shoplake/lakehouse/internal/warehouse/warehousetest"
)

// openBQThrough opens the BigQuery backend on the fake through a fault proxy.
func openBQThrough(t *testing.T, f *bqfake.Server, p *faultproxy.Proxy, retry lake.Retry) *warehouse.BigQuery {
	t.Helper()
	w, err := warehouse.OpenBigQuery(context.Background(), warehouse.Config{Kind: warehouse.KindBigQuery,
		Project: "proj", Location: "EU", Endpoint: "http://" + p.Addr() + "/bigquery/v2/", Retry: retry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestBigQueryConformanceUnderFaults: the backend keeps its contract when 10%
// of its API requests fail (429, 503), reset (before or after the fake acted)
// or are delayed.
func TestBigQueryConformanceUnderFaults(t *testing.T) {
	var proxies []*faultproxy.Proxy
	warehousetest.Run(t, warehousetest.Harness{
		Open: func(t *testing.T) warehouse.Warehouse {
			f := newFake(t)
			p := faultproxy.Start(t, strings.TrimPrefix(f.URL, "http://"), faultproxy.Config{Seed: uint64(len(proxies) + 1), Rate: 0.1,
				Faults: []faultproxy.Fault{faultproxy.TooMany, faultproxy.Unavailable, faultproxy.Reset, faultproxy.ResetAfter, faultproxy.Delay},
				Delay:  5 * time.Millisecond})
			proxies = append(proxies, p)
			return openBQThrough(t, f, p, lake.Retry{Attempts: 10, Timeout: 5 * time.Second})
		},
		URI: gcsOf,
	})
	faults := 0
	for _, p := range proxies {
		faults += p.Faulted()
	}
	if faults == 0 {
		t.Fatal("no fault injected")
	}
}

// TestBigQueryOutageGivesUp: when every request answers 503, a load gives up
// after its attempts, naming what it was doing, and submits no job.
func TestBigQueryOutageGivesUp(t *testing.T) {
	f := newFake(t)
	p := faultproxy.Start(t, strings.TrimPrefix(f.URL, "http://"), faultproxy.Config{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Unavailable}})
	w := openBQThrough(t, f, p, lake.Retry{Attempts: 2, Timeout: 500 * time.Millisecond})
	src := parquet(t, day, 3)
	_, err := w.Load(context.Background(), warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{src}, RunID: "r1"})
	if err == nil {
		t.Fatal("load through an outage succeeded")
	}
	for _, want := range []string{"ensure dataset silver", "gave up after 2 attempts", "503"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests reached BigQuery", n)
	}
}
