// Package lake is the object store behind the pipeline (DESIGN section 3): one small
// interface with a local-directory and a GCS implementation, the manifests and
// pointers stored in it, and the write-audit-publish commit protocol.
//
// Paths are slash-separated and relative to the lake root. Nothing outside this
// package sees how an implementation stores them.
package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) when an object does not exist.
var ErrNotExist = errors.New("object does not exist")

// ErrPrecondition is returned (wrapped) when a write's precondition does not hold:
// the object exists for a create-only write, or its generation changed.
var ErrPrecondition = errors.New("precondition failed")

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Path string
	Size int64
	// CRC32C is the GCS-style checksum (base64 of the big-endian 4 bytes). Stat
	// and Write fill it; List may leave it empty.
	CRC32C string
	// Generation changes on every write of the object; compare-and-swap uses it.
	Generation int64
	Updated    time.Time
	// CopiedBy says how Copy stored the object (empty from every other call), so
	// publish can report the bytes it placed without reading and writing them.
	CopiedBy CopyMethod
}

// CopyMethod is how Copy stored its destination.
type CopyMethod string

const (
	// CopyLinked: a hard link to the source on a local lake; no byte was written.
	CopyLinked CopyMethod = "link"
	// CopyServerSide: the store copied the object itself (a GCS rewrite); no byte
	// passed through the worker.
	CopyServerSide CopyMethod = "server_side"
	// CopyStreamed: the worker read the source and wrote the destination.
	CopyStreamed CopyMethod = "streamed"
)

// NotCopied says whether the method placed the object without the worker reading
// and writing its bytes.
func (m CopyMethod) NotCopied() bool { return m == CopyLinked || m == CopyServerSide }

// Precondition guards a write. The zero value writes unconditionally.
type Precondition struct {
	// DoesNotExist makes the write create-only.
	DoesNotExist bool
	// GenerationMatch, when non-zero, requires the object's current generation.
	GenerationMatch int64
}

// Lake is an object store rooted at one pipeline's prefix.
type Lake interface {
	// URI names path for people and audits: file:///... or gs://bucket/...
	URI(p string) string
	// Open streams an object.
	Open(ctx context.Context, p string) (io.ReadCloser, error)
	// Stat describes an object, checksum included.
	Stat(ctx context.Context, p string) (ObjectInfo, error)
	// Write stores r as p atomically: readers see the old object or the new, never a part.
	Write(ctx context.Context, p string, r io.Reader, pre Precondition) (ObjectInfo, error)
	// Copy copies src to dst inside the lake without passing the bytes through the
	// worker where the store can (a hard link, a server-side copy); the result's
	// CopiedBy says which.
	Copy(ctx context.Context, src, dst string, pre Precondition) (ObjectInfo, error)
	// List returns every object under prefix (recursively), sorted by path.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes an object; a missing object is not an error.
	Delete(ctx context.Context, p string) error
	// Close releases the store's resources.
	Close() error
}

// Localizer is implemented by lakes whose objects are plain local files, so DuckDB
// can read and write them in place instead of through a work directory.
type Localizer interface {
	LocalPath(p string) string
}

// Open returns the lake at url: gs://bucket/prefix or a local directory.
func Open(ctx context.Context, url string) (Lake, error) {
	return OpenWith(ctx, url, Options{})
}

// Options configure OpenWith.
type Options struct {
	// Retry is a remote lake's budget per call (zero fields: DefaultRetry's).
	Retry Retry
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, o Options) (Lake, error) {
	if strings.HasPrefix(url, "gs://") {
		g, err := openGCSURL(ctx, url, o.Retry)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return g, nil
	}
	return NewLocal(strings.TrimPrefix(url, "file://"))
}

// CheckPath rejects paths that could leave the lake or are not canonical.
func CheckPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p {
		return fmt.Errorf("invalid lake path %q", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." || seg == "" {
			return fmt.Errorf("invalid lake path %q", p)
		}
	}
	return nil
}

// ReadAll reads a whole object.
func ReadAll(ctx context.Context, l Lake, p string) ([]byte, error) {
	rc, err := l.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// WriteBytes writes b as p.
func WriteBytes(ctx context.Context, l Lake, p string, b []byte, pre Precondition) (ObjectInfo, error) {
	return l.Write(ctx, p, strings.NewReader(string(b)), pre)
}
