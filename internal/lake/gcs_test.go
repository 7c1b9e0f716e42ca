package lake_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/gcstest"
	"github.com/shoplake/lakehouse/internal/lake/laketest"
)

// newGCSLake opens a lake on the emulator at endpoint (host:port) under a prefix
// no other test uses, talking to it over TCP without credentials.
func newGCSLake(t *testing.T, endpoint, bucket string) *lake.GCS {
	t.Helper()
	l, err := lake.NewGCS(context.Background(), bucket, "p-"+randomName(),
		option.WithEndpoint("http://"+endpoint+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestGCSConformance(t *testing.T) {
	endpoint, bucket, _ := gcstest.Start(t)
	laketest.Run(t, func(t *testing.T) lake.Lake { return newGCSLake(t, endpoint, bucket) })
}

// TestGCSPreconditions pins down the cases the commit protocol rests on, with the
// emulator's answers: uploads enforce preconditions (412), copies are guarded by
// the lake's own existence check.
func TestGCSPreconditions(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	l := newGCSLake(t, endpoint, bucket)

	first, err := lake.WriteBytes(ctx, l, "run=r/_MANIFEST.json", []byte("one"), lake.Precondition{DoesNotExist: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = lake.WriteBytes(ctx, l, "run=r/_MANIFEST.json", []byte("two"), lake.Precondition{DoesNotExist: true})
	if !errors.Is(err, lake.ErrPrecondition) {
		t.Fatalf("second create-only write: %v, want ErrPrecondition", err)
	}
	if !strings.Contains(err.Error(), l.URI("run=r/_MANIFEST.json")) {
		t.Errorf("error does not name the object: %v", err)
	}

	swapped, err := lake.WriteBytes(ctx, l, "run=r/_MANIFEST.json", []byte("three"), lake.Precondition{GenerationMatch: first.Generation})
	if err != nil {
		t.Fatalf("swap with the current generation: %v", err)
	}
	_, err = lake.WriteBytes(ctx, l, "run=r/_MANIFEST.json", []byte("four"), lake.Precondition{GenerationMatch: first.Generation})
	if !errors.Is(err, lake.ErrPrecondition) {
		t.Fatalf("stale-generation swap: %v, want ErrPrecondition", err)
	}
	if st, err := l.Stat(ctx, "run=r/_MANIFEST.json"); err != nil || st.Generation != swapped.Generation {
		t.Errorf("after the failed swap: %+v %v, want generation %d", st, err, swapped.Generation)
	}

	// Create-only copy onto an existing object: refused, destination untouched.
	if _, err := lake.WriteBytes(ctx, l, "src", []byte("new"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	dst, err := lake.WriteBytes(ctx, l, "dst", []byte("old"), lake.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Copy(ctx, "src", "dst", lake.Precondition{DoesNotExist: true}); !errors.Is(err, lake.ErrPrecondition) {
		t.Errorf("create-only copy onto an object: %v, want ErrPrecondition", err)
	}
	if _, err := l.Copy(ctx, "src", "dst", lake.Precondition{GenerationMatch: dst.Generation + 1}); !errors.Is(err, lake.ErrPrecondition) {
		t.Errorf("copy with a stale generation: %v, want ErrPrecondition", err)
	}
	if st, _ := l.Stat(ctx, "dst"); st.Generation != dst.Generation {
		t.Errorf("refused copies changed the destination: generation %d, was %d", st.Generation, dst.Generation)
	}
	cp, err := l.Copy(ctx, "src", "dst", lake.Precondition{GenerationMatch: dst.Generation})
	if err != nil || cp.CRC32C != lake.CRC32C([]byte("new")) || cp.Size != 3 || cp.Generation == dst.Generation {
		t.Errorf("copy with the current generation: %+v %v", cp, err)
	}
	if _, err := l.Copy(ctx, "missing", "elsewhere", lake.Precondition{DoesNotExist: true}); !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("copy of a missing object: %v, want ErrNotExist", err)
	}
}

// TestGCSAbortedWrite: a reader failing mid-stream leaves no object, for a small
// (single request) and a large (resumable, several chunks) upload alike.
func TestGCSAbortedWrite(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	l := newGCSLake(t, endpoint, bucket)
	for _, size := range []int{10, 17 << 20} {
		r := io.MultiReader(bytes.NewReader(make([]byte, size)), failingReader{})
		if _, err := l.Write(ctx, "partial", r, lake.Precondition{}); err == nil {
			t.Fatalf("write of %d bytes from a failing reader succeeded", size)
		}
		if _, err := l.Stat(ctx, "partial"); !errors.Is(err, lake.ErrNotExist) {
			t.Errorf("failed write of %d bytes left an object: %v", size, err)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestGCSLargeObject goes through the resumable upload path (over the 16 MiB
// chunk) and checks what was stored, byte for byte and by checksum.
func TestGCSLargeObject(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	l := newGCSLake(t, endpoint, bucket)
	data := make([]byte, 17<<20+123)
	_, _ = rand.Read(data)
	info, err := lake.WriteBytes(ctx, l, "big.parquet", data, lake.Precondition{DoesNotExist: true})
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) || info.CRC32C != lake.CRC32C(data) {
		t.Errorf("write info = %+v, want crc32c %s", info, lake.CRC32C(data))
	}
	got, err := lake.ReadAll(ctx, l, "big.parquet")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := lake.WriteBytes(ctx, l, "big.parquet", data, lake.Precondition{DoesNotExist: true}); !errors.Is(err, lake.ErrPrecondition) {
		t.Errorf("second create-only resumable upload: %v, want ErrPrecondition", err)
	}
}

// TestGCSOpenWithEmulatorHost opens the lake as the worker does, by URL, with the
// emulator named only by STORAGE_EMULATOR_HOST.
func TestGCSOpenWithEmulatorHost(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	t.Setenv("STORAGE_EMULATOR_HOST", endpoint)
	l, err := lake.Open(ctx, "gs://"+bucket+"/shop/")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, ok := l.(*lake.GCS); !ok {
		t.Fatalf("lake.Open(gs://...) = %T", l)
	}
	if got, want := l.URI("bronze/x.json"), "gs://"+bucket+"/shop/bronze/x.json"; got != want {
		t.Errorf("URI = %s, want %s", got, want)
	}
	info, err := lake.WriteBytes(ctx, l, "bronze/x.json", []byte(`{"a":1}`), lake.Precondition{DoesNotExist: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := lake.ReadAll(ctx, l, "bronze/x.json"); err != nil || string(got) != `{"a":1}` {
		t.Fatalf("read = %q %v", got, err)
	}
	objs, err := l.List(ctx, "bronze")
	if err != nil || len(objs) != 1 || objs[0].Path != "bronze/x.json" || objs[0].Generation != info.Generation {
		t.Errorf("list = %+v %v", objs, err)
	}
	// DuckDB reads local files: a GCS lake is localized by download.
	work := t.TempDir()
	paths, err := lake.Localize(ctx, l, []string{"bronze/x.json"}, work)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(paths[0]); err != nil || string(b) != `{"a":1}` || !strings.HasPrefix(paths[0], work) {
		t.Errorf("localized %s: %q %v", paths[0], b, err)
	}
	// The bucket root works as a lake too.
	root, err := lake.Open(ctx, "gs://"+bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if got, err := lake.ReadAll(ctx, root, "shop/bronze/x.json"); err != nil || string(got) != `{"a":1}` {
		t.Errorf("read through the bucket root = %q %v", got, err)
	}
}

func TestGCSOpenRejectsBadURLs(t *testing.T) {
	for _, url := range []string{"gs://", "gs:///x", "gs://Bad_Bucket/x", "gs://b/x", "gs://bucket/../x", "gs://bucket/a//b"} {
		l, err := lake.Open(context.Background(), url)
		if err == nil {
			l.Close()
			t.Errorf("lake.Open(%q) succeeded", url)
		} else if l != nil {
			t.Errorf("lake.Open(%q) returned a non-nil lake with its error", url)
		}
	}
}

// TestGCSChildProcess: another process, given only STORAGE_EMULATOR_HOST and the
// lake URL, reads what this one wrote and writes back (the worker binary's case).
func TestGCSChildProcess(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	url := "gs://" + bucket + "/child"
	t.Setenv("STORAGE_EMULATOR_HOST", endpoint)
	l, err := lake.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := lake.WriteBytes(ctx, l, "in.txt", []byte("ping"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	out, err := runHelper(t, "roundtrip", endpoint, url, nil)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got, err := lake.ReadAll(ctx, l, "out.txt"); err != nil || string(got) != "child read ping" {
		t.Errorf("child wrote %q, %v", got, err)
	}
}

// TestGCSListIsAFolder: a listing prefix names a folder, with or without its
// slash, as on a local lake; a sibling sharing the name's start is not in it.
func TestGCSListIsAFolder(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	l := newGCSLake(t, endpoint, bucket)
	for _, p := range []string{"t/b", "t/a/c", "t2/x", "tt"} {
		if _, err := lake.WriteBytes(ctx, l, p, []byte(p), lake.Precondition{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, prefix := range []string{"t", "t/"} {
		objs, err := l.List(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range objs {
			got = append(got, o.Path)
			if o.Size != int64(len(o.Path)) || o.CRC32C != lake.CRC32C([]byte(o.Path)) || o.Generation == 0 || o.Updated.IsZero() {
				t.Errorf("list info %+v", o)
			}
		}
		if strings.Join(got, ",") != "t/a/c,t/b" {
			t.Errorf("List(%q) = %v, want t/a/c,t/b", prefix, got)
		}
	}
	all, err := l.List(ctx, "")
	if err != nil || len(all) != 4 {
		t.Errorf("List(\"\") = %v %v", all, err)
	}
	if _, err := l.List(ctx, "../"); err == nil {
		t.Error("List(../) succeeded")
	}
}

// countingTransport counts the body bytes a client sends and receives.
type countingTransport struct {
	next  http.RoundTripper
	bytes atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body = countingBody{req.Body, &c.bytes}
	}
	resp, err := c.next.RoundTrip(req)
	if resp != nil && resp.Body != nil {
		resp.Body = countingBody{resp.Body, &c.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// TestGCSCommitCopiesServerSide: publishing a staged file on GCS is a server-side
// copy: the file's bytes never pass through the worker (only manifests do), the
// commit reports them as not copied, and the committed object is verified.
func TestGCSCommitCopiesServerSide(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	wire := &countingTransport{next: http.DefaultTransport}
	l, err := lake.NewGCS(ctx, bucket, "p-"+randomName(), option.WithEndpoint("http://"+endpoint+"/storage/v1/"),
		option.WithHTTPClient(&http.Client{Transport: wire}))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	data := make([]byte, 2<<20)
	_, _ = rand.Read(data)
	laketest.Stage(t, l, "silver", "orders", "ingestion_dt", "2026-11-20", "r1", map[string]string{"part-0.parquet": string(data)})
	before := wire.bytes.Load()
	if before < int64(len(data)) {
		t.Fatalf("staging the file moved %d bytes over the wire, fewer than its %d: the counter misses bodies", before, len(data))
	}
	res, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: "silver", Table: "orders", Key: "ingestion_dt",
		Value: "2026-11-20", RunID: "r1", Now: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if moved := wire.bytes.Load() - before; moved >= int64(len(data))/4 {
		t.Errorf("the commit moved %d bytes over the wire for a %d-byte file: not a server-side copy", moved, len(data))
	}
	if pl := res.Placed; pl.Files != 1 || pl.BytesNotCopied != int64(len(data)) || pl.ByMethod[string(lake.CopyServerSide)] != 1 {
		t.Errorf("placed %+v, want 1 file copied server-side, %d bytes not copied", pl, len(data))
	}
	got, err := lake.ReadAll(ctx, l, "silver/orders/ingestion_dt=2026-11-20/run=r1/part-0.parquet")
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("committed file: %d bytes, %v", len(got), err)
	}
}
