package lake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// GCS is a lake under a prefix of a Google Cloud Storage bucket.
//
// Compare-and-swap uses object generations: create-only writes send
// ifGenerationMatch=0 and swaps ifGenerationMatch=<generation>, so GCS itself
// decides which of two racing writers wins. With preconditions those writes are
// idempotent, and only idempotent calls are retried (storage.RetryIdempotent).
//
// Credentials are the client library's: Application Default Credentials
// (Workload Identity on GKE, GOOGLE_APPLICATION_CREDENTIALS elsewhere), or none
// when STORAGE_EMULATOR_HOST names an emulator. GCS never logs and never puts
// credentials into its errors or results.
type GCS struct {
	client *storage.Client
	bucket *storage.BucketHandle
	name   string // bucket name
	prefix string // object name prefix without a trailing slash; "" for the bucket root
}

// bucketPattern is the shape of a GCS bucket name (lowercase, digits, - _ .).
var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)

// NewGCS opens the lake gs://bucket/prefix. opts go to storage.NewClient; without
// them the client uses Application Default Credentials, or the emulator named by
// STORAGE_EMULATOR_HOST. No request is made until the lake is used.
func NewGCS(ctx context.Context, bucket, prefix string, opts ...option.ClientOption) (*GCS, error) {
	root := "gs://" + bucket + "/" + prefix
	if !bucketPattern.MatchString(bucket) {
		return nil, fmt.Errorf("open lake %s: %q is not a valid bucket name", root, bucket)
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		if err := CheckPath(prefix); err != nil {
			return nil, fmt.Errorf("open lake %s: prefix: %w", root, err)
		}
	}
	// The client library logs requests and token responses when
	// GOOGLE_SDK_GO_LOGGING_LEVEL asks it to; a lake never does (they can carry
	// credentials). A logger in opts still takes precedence.
	opts = append([]option.ClientOption{option.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open lake %s: %w", root, err)
	}
	// The default policy already, stated here because Commit's safety depends on
	// it: a non-idempotent write (no precondition) is never sent twice.
	client.SetRetry(storage.WithPolicy(storage.RetryIdempotent))
	return &GCS{client: client, bucket: client.Bucket(bucket), name: bucket, prefix: prefix}, nil
}

// openGCSURL opens a gs://bucket/prefix URL (lake.Open's gs:// branch).
func openGCSURL(ctx context.Context, url string) (*GCS, error) {
	rest := strings.TrimPrefix(url, "gs://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	return NewGCS(ctx, bucket, prefix)
}

// Bucket is the lake's bucket name.
func (g *GCS) Bucket() string { return g.name }

// Prefix is the lake's object name prefix ("" for the bucket root).
func (g *GCS) Prefix() string { return g.prefix }

// objectName is p's object name in the bucket.
func (g *GCS) objectName(p string) string {
	if g.prefix == "" {
		return p
	}
	return g.prefix + "/" + p
}

// URI implements Lake.
func (g *GCS) URI(p string) string {
	if p == "" {
		return "gs://" + path.Join(g.name, g.prefix)
	}
	return "gs://" + g.name + "/" + g.objectName(p)
}

// Close implements Lake.
func (g *GCS) Close() error { return g.client.Close() }

// Open implements Lake. The reader verifies the object's CRC32C when read to the end.
func (g *GCS) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := CheckPath(p); err != nil {
		return nil, err
	}
	r, err := g.bucket.Object(g.objectName(p)).NewReader(ctx)
	if err != nil {
		return nil, g.mapErr("open", p, err, false)
	}
	return r, nil
}

// Stat implements Lake.
func (g *GCS) Stat(ctx context.Context, p string) (ObjectInfo, error) {
	if err := CheckPath(p); err != nil {
		return ObjectInfo{}, err
	}
	attrs, err := g.bucket.Object(g.objectName(p)).Attrs(ctx)
	if err != nil {
		return ObjectInfo{}, g.mapErr("stat", p, err, false)
	}
	return g.infoOf(p, attrs), nil
}

// smallObject is the size up to which Write buffers a whole object before
// uploading it: manifests, pointers and small data files.
const smallObject = 4 << 20

// Write implements Lake. The object is created only once the whole of r has been
// uploaded and GCS has checked its CRC32C: an object of up to smallObject bytes
// is buffered and sent in one request with the CRC32C computed here
// (SendCRC32C); a larger one streams in resumable chunks, the client sending the
// CRC32C of the whole object with the last one. Either way the stored object's
// CRC32C is then compared with that of the bytes read from r.
func (g *GCS) Write(ctx context.Context, p string, r io.Reader, pre Precondition) (ObjectInfo, error) {
	if err := CheckPath(p); err != nil {
		return ObjectInfo{}, err
	}
	obj := g.bucket.Object(g.objectName(p))
	if c, ok := conditions(pre); ok {
		obj = obj.If(c)
	}
	var head bytes.Buffer
	_, err := io.CopyN(&head, r, smallObject)
	switch {
	case err == io.EOF:
		b := head.Bytes()
		return g.put(ctx, p, obj, b, crc32.Checksum(b, castagnoli), pre)
	case err != nil:
		return ObjectInfo{}, fmt.Errorf("write %s: %w", g.URI(p), err)
	}
	return g.stream(ctx, p, obj, io.MultiReader(&head, r), pre)
}

// put uploads b, whose CRC32C the caller states, in one retryable request.
func (g *GCS) put(ctx context.Context, p string, obj *storage.ObjectHandle, b []byte, crc uint32, pre Precondition) (ObjectInfo, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := obj.NewWriter(wctx)
	w.ContentType = contentType(p)
	// One chunk holding the whole object: a single request the client can
	// retry (ChunkSize 0 would disable retries), with a buffer no larger than b.
	w.ChunkSize = max(len(b), 1)
	w.CRC32C, w.SendCRC32C = crc, true
	if _, err := w.Write(b); err != nil {
		cancel()
		_ = w.Close()
		return ObjectInfo{}, g.mapErr("write", p, err, pre != Precondition{})
	}
	if err := w.Close(); err != nil {
		return ObjectInfo{}, g.mapErr("write", p, err, pre != Precondition{})
	}
	return g.verify(p, w.Attrs(), int64(len(b)), crc)
}

// stream uploads r in resumable chunks (the client's default 16 MiB).
func (g *GCS) stream(ctx context.Context, p string, obj *storage.ObjectHandle, r io.Reader, pre Precondition) (ObjectInfo, error) {
	// Cancelling the writer's context is the only way to abandon an upload: a
	// failed read must not finalize a partial object.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := obj.NewWriter(wctx)
	w.ContentType = contentType(p)
	h := crc32.New(castagnoli)
	n, err := io.Copy(w, io.TeeReader(r, h))
	if err != nil {
		cancel()
		_ = w.Close()
		return ObjectInfo{}, g.mapErr("write", p, err, pre != Precondition{})
	}
	if err := w.Close(); err != nil {
		return ObjectInfo{}, g.mapErr("write", p, err, pre != Precondition{})
	}
	return g.verify(p, w.Attrs(), n, h.Sum32())
}

// verify compares a stored object with the data that was written.
func (g *GCS) verify(p string, attrs *storage.ObjectAttrs, size int64, crc uint32) (ObjectInfo, error) {
	info := g.infoOf(p, attrs)
	if want := EncodeCRC32C(crc); info.CRC32C != want || info.Size != size {
		return info, fmt.Errorf("write %s: stored object (%d bytes, crc32c %s) differs from the data written (%d bytes, crc32c %s)",
			g.URI(p), info.Size, info.CRC32C, size, want)
	}
	return info, nil
}

// Copy implements Lake with a server-side copy (rewrite): the bytes never pass
// through the worker, and the store returns the copy's size and CRC32C for the
// caller to verify. It is guarded on the destination by pre. GCS enforces the precondition atomically; emulators may not
// (fake-gcs-server ignores it on copies), so a guarded copy first checks the
// destination itself. That check is best-effort: it narrows, but does not close,
// the window in which a racing copy could overwrite an object on an emulator.
func (g *GCS) Copy(ctx context.Context, src, dst string, pre Precondition) (ObjectInfo, error) {
	if err := CheckPath(src); err != nil {
		return ObjectInfo{}, err
	}
	if err := CheckPath(dst); err != nil {
		return ObjectInfo{}, err
	}
	to := g.bucket.Object(g.objectName(dst))
	if c, ok := conditions(pre); ok {
		attrs, err := to.Attrs(ctx)
		switch {
		case err == nil && pre.DoesNotExist:
			return ObjectInfo{}, fmt.Errorf("copy to %s: object exists: %w", g.URI(dst), ErrPrecondition)
		case err == nil && attrs.Generation != pre.GenerationMatch:
			return ObjectInfo{}, fmt.Errorf("copy to %s: generation %d, expected %d: %w", g.URI(dst), attrs.Generation, pre.GenerationMatch, ErrPrecondition)
		case errors.Is(err, storage.ErrObjectNotExist) && pre.GenerationMatch != 0:
			return ObjectInfo{}, fmt.Errorf("copy to %s: object is gone: %w", g.URI(dst), ErrPrecondition)
		case err != nil && !errors.Is(err, storage.ErrObjectNotExist):
			return ObjectInfo{}, g.mapErr("copy to", dst, err, false)
		}
		to = to.If(c)
	}
	attrs, err := to.CopierFrom(g.bucket.Object(g.objectName(src))).Run(ctx)
	if err != nil {
		if isHTTP(err, http.StatusNotFound) || errors.Is(err, storage.ErrObjectNotExist) {
			// The destination's precondition cannot cause a 404: the source is missing.
			return ObjectInfo{}, fmt.Errorf("copy from %s: %w", g.URI(src), ErrNotExist)
		}
		return ObjectInfo{}, g.mapErr("copy to", dst, err, pre != Precondition{})
	}
	info := g.infoOf(dst, attrs)
	info.CopiedBy = CopyServerSide
	return info, nil
}

// List implements Lake. prefix names a folder ("t/" and "t" alike); objects
// whose names are not valid lake paths (console folder placeholders) are skipped.
func (g *GCS) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	dir := strings.TrimSuffix(prefix, "/")
	if dir != "" {
		if err := CheckPath(dir); err != nil {
			return nil, err
		}
	}
	root := ""
	if g.prefix != "" {
		root = g.prefix + "/"
	}
	q := &storage.Query{Prefix: root}
	if dir != "" {
		q.Prefix = root + dir + "/"
	}
	if err := q.SetAttrSelection([]string{"Name", "Size", "CRC32C", "Generation", "Updated"}); err != nil {
		return nil, fmt.Errorf("list %s: %w", g.URI(dir), err)
	}
	var out []ObjectInfo
	it := g.bucket.Objects(ctx, q)
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", g.URI(dir), err)
		}
		rel := strings.TrimPrefix(attrs.Name, root)
		if CheckPath(rel) != nil {
			continue
		}
		out = append(out, g.infoOf(rel, attrs))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Delete implements Lake.
func (g *GCS) Delete(ctx context.Context, p string) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	err := g.bucket.Object(g.objectName(p)).Delete(ctx)
	if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return g.mapErr("delete", p, err, false)
	}
	return nil
}

func (g *GCS) infoOf(p string, attrs *storage.ObjectAttrs) ObjectInfo {
	return ObjectInfo{
		Path:       p,
		Size:       attrs.Size,
		CRC32C:     EncodeCRC32C(attrs.CRC32C),
		Generation: attrs.Generation,
		Updated:    attrs.Updated.UTC(),
	}
}

// conditions translates a Precondition; ok is false for an unconditional write.
func conditions(pre Precondition) (storage.Conditions, bool) {
	switch {
	case pre.DoesNotExist:
		return storage.Conditions{DoesNotExist: true}, true
	case pre.GenerationMatch != 0:
		return storage.Conditions{GenerationMatch: pre.GenerationMatch}, true
	}
	return storage.Conditions{}, false
}

// mapErr wraps a client error with the operation and the object's URI, mapping
// a missing object to ErrNotExist and, for a conditional call, a failed
// precondition (412; 304 and 409 as some emulators and the XML API say it) to
// ErrPrecondition.
func (g *GCS) mapErr(op, p string, err error, conditional bool) error {
	uri := g.URI(p)
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return fmt.Errorf("%s %s: %w", op, uri, ErrNotExist)
	case errors.Is(err, storage.ErrBucketNotExist), isHTTP(err, http.StatusNotFound):
		// Only a missing bucket makes a write or a listing 404.
		return fmt.Errorf("%s %s: bucket %s not found: check --lake and that it exists: %w", op, uri, g.name, err)
	case conditional && (isHTTP(err, http.StatusPreconditionFailed) || isHTTP(err, http.StatusNotModified) || isHTTP(err, http.StatusConflict)):
		return fmt.Errorf("%s %s: %w: %w", op, uri, ErrPrecondition, err)
	}
	return fmt.Errorf("%s %s: %w", op, uri, err)
}

// isHTTP reports whether err is a GCS API error with the HTTP status code.
func isHTTP(err error, code int) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == code
}

// contentType labels objects for people browsing the bucket; nothing reads it.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".json":
		return "application/json"
	case ".parquet":
		return "application/vnd.apache.parquet"
	}
	return "application/octet-stream"
}
