package lake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/faultproxy"
	"github.com/shoplake/lakehouse/internal/lake/gcstest"
	"github.com/shoplake/lakehouse/internal/lake/laketest"
)

// faultyLake opens a lake on the emulator through a fault-injecting proxy.
func faultyLake(t *testing.T, proxy *faultproxy.Proxy, bucket string, retry lake.Retry) *lake.GCS {
	t.Helper()
	l, err := lake.NewGCSWithRetry(context.Background(), bucket, "p-"+randomName(), retry,
		option.WithEndpoint("http://"+proxy.Addr()+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestGCSConformanceUnderFaults: the lake keeps its contract (the conformance
// suite) when 30% of requests fail, reset, are delayed or stall.
func TestGCSConformanceUnderFaults(t *testing.T) {
	endpoint, bucket, _ := gcstest.Start(t)
	proxy := faultproxy.Start(t, endpoint, faultproxy.Config{Seed: 1, Rate: 0.3, Delay: 5 * time.Millisecond, Stall: time.Minute, MaxStalls: 2})
	retry := lake.Retry{Attempts: 12, Timeout: time.Second}
	laketest.Run(t, func(t *testing.T) lake.Lake { return faultyLake(t, proxy, bucket, retry) })
	if proxy.Faulted() == 0 {
		t.Fatalf("no fault injected: %v", proxy.Counts())
	}
	t.Logf("faults: %v", proxy.Counts())
}

// TestGCSFaultsEachKind: every call rides out each kind of fault on its own,
// and gives up after exactly its attempts when the fault persists, naming the
// operation and the object.
func TestGCSFaultsEachKind(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	data := bytes.Repeat([]byte("0123456789"), 1000)
	for _, f := range faultproxy.Transient {
		t.Run(f.String(), func(t *testing.T) {
			proxy := faultproxy.Start(t, endpoint, faultproxy.Config{Seed: 2, Rate: 0.25, Faults: []faultproxy.Fault{f}, Delay: 5 * time.Millisecond, Stall: time.Minute, MaxStalls: 2})
			l := faultyLake(t, proxy, bucket, lake.Retry{Attempts: 20, Timeout: time.Second})
			for i := range 6 {
				p := fmt.Sprintf("t/k=%d/part.parquet", i)
				pre := lake.Precondition{}
				if i%2 == 0 {
					pre.DoesNotExist = true // create-only: a retry that landed unseen must not read as a lost race
				}
				info, err := lake.WriteBytes(ctx, l, p, data, pre)
				if err != nil {
					t.Fatalf("write %s: %v", p, err)
				}
				if _, err := lake.WriteBytes(ctx, l, p, data, lake.Precondition{GenerationMatch: info.Generation}); err != nil {
					t.Fatalf("swap %s: %v", p, err)
				}
				got, err := lake.ReadAll(ctx, l, p)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("read %s: %d bytes, %v", p, len(got), err)
				}
				if _, err := l.Copy(ctx, p, p+".copy", lake.Precondition{DoesNotExist: i%2 == 0}); err != nil {
					t.Fatalf("copy %s: %v", p, err)
				}
			}
			objs, err := l.List(ctx, "t")
			if err != nil || len(objs) != 12 {
				t.Fatalf("list: %d objects, %v", len(objs), err)
			}
			for _, o := range objs {
				if err := l.Delete(ctx, o.Path); err != nil {
					t.Fatalf("delete %s: %v", o.Path, err)
				}
			}
			if c := proxy.Counts(); c[f] == 0 {
				t.Fatalf("no %s injected: %v", f, c)
			}
		})
	}
}

// TestGCSOutageGivesUp: when every request fails, each call gives up after its
// attempts, with the operation and the object in the error, and writes nothing.
func TestGCSOutageGivesUp(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	for _, f := range []faultproxy.Fault{faultproxy.Unavailable, faultproxy.Reset, faultproxy.Stall} {
		t.Run(f.String(), func(t *testing.T) {
			proxy := faultproxy.Start(t, endpoint, faultproxy.Config{Rate: 1, Faults: []faultproxy.Fault{f}, Stall: time.Minute, MaxStalls: 1 << 30})
			l := faultyLake(t, proxy, bucket, lake.Retry{Attempts: 3, Timeout: 200 * time.Millisecond})
			uri := l.URI("t/x.json")
			calls := []struct {
				op  string
				err func() error
			}{
				{"write", func() error {
					_, err := lake.WriteBytes(ctx, l, "t/x.json", []byte("{}"), lake.Precondition{})
					return err
				}},
				{"write", func() error {
					_, err := lake.WriteBytes(ctx, l, "t/x.json", []byte("{}"), lake.Precondition{DoesNotExist: true})
					return err
				}},
				{"stat", func() error { _, err := l.Stat(ctx, "t/x.json"); return err }},
				{"open", func() error { _, err := lake.ReadAll(ctx, l, "t/x.json"); return err }},
				{"delete", func() error { return l.Delete(ctx, "t/x.json") }},
				{"list", func() error { _, err := l.List(ctx, "t"); return err }},
			}
			for _, c := range calls {
				before := proxy.Counts()[f]
				err := c.err()
				if err == nil {
					t.Fatalf("%s through a total outage succeeded", c.op)
				}
				target := uri
				if c.op == "list" {
					target = l.URI("t")
				}
				if want := c.op + " " + target + ": gave up after 3 attempts"; !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %v\nwant it to say %q", c.op, err, want)
				}
				if errors.Is(err, lake.ErrNotExist) || errors.Is(err, lake.ErrPrecondition) {
					t.Errorf("%s: an outage reads as a verdict: %v", c.op, err)
				}
				if n := proxy.Counts()[f] - before; n != 3 {
					t.Errorf("%s: %d requests, want 3 attempts", c.op, n)
				}
			}
		})
	}
	// Nothing reached the bucket.
	l := newGCSLake(t, endpoint, bucket)
	if objs, err := l.List(ctx, ""); err != nil || len(objs) != 0 {
		t.Errorf("bucket after the outage: %v, %v", objs, err)
	}
}

// TestGCSReadResumesAfterStall: a read whose response stalls half-way is
// resumed where it stopped and delivers the whole object, checksum checked.
func TestGCSReadResumesAfterStall(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	proxy := faultproxy.Start(t, endpoint, faultproxy.Config{})
	l := faultyLake(t, proxy, bucket, lake.Retry{Attempts: 3, Timeout: 300 * time.Millisecond})
	data := bytes.Repeat([]byte("abcdefghij"), 100_000)
	if _, err := lake.WriteBytes(ctx, l, "big.parquet", data, lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	proxy.Configure(faultproxy.Config{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Stall}, Stall: time.Minute, MaxStalls: 1})
	rc, err := l.Open(ctx, "big.parquet")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after a stall: %d of %d bytes, %v", len(got), len(data), err)
	}
	if c := proxy.Counts(); c[faultproxy.Stall] != 1 {
		t.Fatalf("stalls: %v, want 1", c)
	}
}
