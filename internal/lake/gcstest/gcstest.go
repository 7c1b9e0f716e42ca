// Package gcstest runs an in-process GCS emulator (fake-gcs-server's fakestorage)
// for tests: the GCS lake's conformance tests, and black-box tests that run the
// worker binary with STORAGE_EMULATOR_HOST=<endpoint> and --lake gs://<bucket>/<prefix>.
package gcstest

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// Start starts an emulator on 127.0.0.1 at a free port, plain HTTP, holding one
// fresh empty bucket. endpoint is host:port, the form STORAGE_EMULATOR_HOST takes
// (the client library then talks to http://<endpoint>/storage/v1/ without
// credentials). stop shuts the emulator down; it also runs when the test ends,
// and calling it twice is fine.
func Start(t testing.TB) (endpoint string, bucket string, stop func()) {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http",
		Host:   "127.0.0.1",
		// Port 0: httptest picks a free port on 127.0.0.1.
		NoListener: false,
		// The client library reads objects through the XML API at the emulator's
		// own host (http://host:port/bucket/object); the emulator serves that path
		// only for requests to its public host (the port is ignored when unnamed).
		PublicHost: "127.0.0.1",
		Writer:     io.Discard,
	})
	if err != nil {
		t.Fatalf("start GCS emulator: %v", err)
	}
	var once sync.Once
	stop = func() { once.Do(srv.Stop) }
	t.Cleanup(stop)
	u, err := url.Parse(srv.URL())
	if err != nil {
		stop()
		t.Fatalf("GCS emulator URL %q: %v", srv.URL(), err)
	}
	if host, _, err := net.SplitHostPort(u.Host); err != nil || host != "127.0.0.1" {
		stop()
		t.Fatalf("GCS emulator listens on %s, want 127.0.0.1", u.Host)
	}
	bucket = NewBucketName()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	return u.Host, bucket, stop
}

// NewBucketName returns a fresh valid bucket name, for tests that make more
// buckets on one emulator.
func NewBucketName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "lake-test-" + hex.EncodeToString(b)
}
