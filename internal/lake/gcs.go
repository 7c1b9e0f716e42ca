package lake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
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
// idempotent; unconditional writes send the same bytes again, so they are
// retried too (see put).
//
// Every call has a budget (Retry): a deadline per attempt for metadata calls and
// small uploads, an inactivity timeout for reads and listings, and a bounded
// number of attempts with jittered exponential backoff. The client library's
// own retries are off for the calls this file retries (noRetry), so an attempt
// is one request and its deadline holds; streamed uploads keep the library's
// retries, bounded by attempts and deadlines.
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
	retry  Retry
}

// bucketPattern is the shape of a GCS bucket name (lowercase, digits, - _ .).
var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)

// NewGCS opens the lake gs://bucket/prefix. opts go to storage.NewClient; without
// them the client uses Application Default Credentials, or the emulator named by
// STORAGE_EMULATOR_HOST. No request is made until the lake is used.
func NewGCS(ctx context.Context, bucket, prefix string, opts ...option.ClientOption) (*GCS, error) {
	return newGCS(ctx, bucket, prefix, DefaultRetry(), opts...)
}

func newGCS(ctx context.Context, bucket, prefix string, retry Retry, opts ...option.ClientOption) (*GCS, error) {
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
	// For any call the library would retry itself (streamed uploads set their
	// own policy): only idempotent ones, a bounded number of times.
	retry = retry.normalized()
	client.SetRetry(storage.WithPolicy(storage.RetryIdempotent), storage.WithMaxAttempts(retry.Attempts))
	return &GCS{client: client, bucket: client.Bucket(bucket), name: bucket, prefix: prefix, retry: retry}, nil
}

// openGCSURL opens a gs://bucket/prefix URL (lake.Open's gs:// branch).
func openGCSURL(ctx context.Context, url string, retry Retry) (*GCS, error) {
	rest := strings.TrimPrefix(url, "gs://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	return newGCS(ctx, bucket, prefix, retry)
}

// object is p's handle for a call this file retries: one request per attempt.
func (g *GCS) object(p string) *storage.ObjectHandle {
	return g.bucket.Object(g.objectName(p)).Retryer(storage.WithPolicy(storage.RetryNever))
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
	r := &gcsReader{g: g, ctx: ctx, p: p, obj: g.object(p), crc: crc32.New(castagnoli), rt: newRetrier(g.retry)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// Stat implements Lake.
func (g *GCS) Stat(ctx context.Context, p string) (ObjectInfo, error) {
	if err := CheckPath(p); err != nil {
		return ObjectInfo{}, err
	}
	attrs, err := g.attrs(ctx, g.object(p))
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
	var head bytes.Buffer
	_, err := io.CopyN(&head, r, smallObject)
	switch {
	case err == io.EOF:
		b := head.Bytes()
		return g.put(ctx, p, b, crc32.Checksum(b, castagnoli), pre)
	case err != nil:
		return ObjectInfo{}, fmt.Errorf("write %s: %w", g.URI(p), err)
	}
	return g.stream(ctx, p, io.MultiReader(&head, r), pre)
}

// put uploads b, whose CRC32C the caller states, one request per attempt.
//
// Every attempt sends the same bytes, so even an unconditional write is safe to
// retry: if an attempt landed unseen, the next one stores the same object again
// (last writer wins either way). A guarded write whose attempt landed unseen
// fails its retry's precondition; put then reads what is stored, and if it is
// these bytes the write succeeded.
func (g *GCS) put(ctx context.Context, p string, b []byte, crc uint32, pre Precondition) (ObjectInfo, error) {
	var attrs *storage.ObjectAttrs
	attempts := 0
	err := g.retry.Call(ctx, true, func(actx context.Context, _ func()) error {
		attempts++
		obj := g.object(p)
		if c, ok := conditions(pre); ok {
			obj = obj.If(c)
		}
		// Cancelling the writer's context is the only way to abandon an
		// upload: a failed write must not finalize a partial object.
		wctx, cancel := context.WithCancel(actx)
		defer cancel()
		w := obj.NewWriter(wctx)
		w.ContentType = contentType(p)
		// ChunkSize 0: one multipart request per attempt, retried here.
		w.ChunkSize = 0
		w.CRC32C, w.SendCRC32C = crc, true
		if _, err := w.Write(b); err != nil {
			cancel()
			_ = w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		attrs = w.Attrs()
		return nil
	})
	if err != nil && attempts > 1 && preconditionFailed(err) {
		if info, serr := g.Stat(ctx, p); serr == nil && info.Size == int64(len(b)) && info.CRC32C == EncodeCRC32C(crc) {
			return info, nil
		}
	}
	if err != nil {
		return ObjectInfo{}, g.mapErr("write", p, err, pre != Precondition{})
	}
	return g.verify(p, attrs, int64(len(b)), crc)
}

// stream uploads r in resumable chunks (the client's default 16 MiB). r cannot
// be read twice, so the client library retries it, chunk by chunk: it resends a
// chunk it still holds, which is safe even for an unconditional upload
// (RetryAlways), with a deadline per chunk request and per chunk.
func (g *GCS) stream(ctx context.Context, p string, r io.Reader, pre Precondition) (ObjectInfo, error) {
	// The guard abandons an upload that makes no progress at all, whatever the
	// library does; cancelling the writer's context is the only way to abandon
	// an upload: a failed read must not finalize a partial object.
	wctx, guard := newStallGuard(ctx, g.retry.total()+g.retry.Timeout)
	defer guard.stop()
	obj := g.bucket.Object(g.objectName(p)).Retryer(storage.WithPolicy(storage.RetryAlways), storage.WithMaxAttempts(g.retry.Attempts))
	if c, ok := conditions(pre); ok {
		obj = obj.If(c)
	}
	w := obj.NewWriter(wctx)
	w.ContentType = contentType(p)
	w.ChunkTransferTimeout = g.retry.Timeout
	w.ChunkRetryDeadline = g.retry.total()
	h := crc32.New(castagnoli)
	n, err := io.Copy(kickWriter{w, guard.kick}, io.TeeReader(r, h))
	if err != nil {
		guard.stop()
		_ = w.Close()
		return ObjectInfo{}, g.mapErr("write", p, err, pre != Precondition{})
	}
	if err := w.Close(); err != nil {
		return ObjectInfo{}, g.mapErr("write", p, err, pre != Precondition{})
	}
	return g.verify(p, w.Attrs(), n, h.Sum32())
}

// kickWriter records progress after every write it passes on.
type kickWriter struct {
	w    io.Writer
	kick func()
}

func (k kickWriter) Write(b []byte) (int, error) {
	n, err := k.w.Write(b)
	k.kick()
	return n, err
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
	to := g.object(dst)
	if c, ok := conditions(pre); ok {
		attrs, err := g.attrs(ctx, to)
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
	attrs, err := g.copy(ctx, to, src, dst, pre)
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

// attrs is one retried metadata call.
func (g *GCS) attrs(ctx context.Context, obj *storage.ObjectHandle) (attrs *storage.ObjectAttrs, err error) {
	err = g.retry.Call(ctx, true, func(ctx context.Context, _ func()) error {
		attrs, err = obj.Attrs(ctx)
		return err
	})
	return attrs, err
}

// copy rewrites src onto to, retried: a copy of the same source again stores
// the same bytes, and a guarded copy that landed unseen (its retry failing the
// precondition) is recognised by the destination now matching the source.
func (g *GCS) copy(ctx context.Context, to *storage.ObjectHandle, src, dst string, pre Precondition) (*storage.ObjectAttrs, error) {
	from := g.bucket.Object(g.objectName(src))
	var attrs *storage.ObjectAttrs
	attempts := 0
	err := g.retry.Call(ctx, true, func(ctx context.Context, kick func()) (err error) {
		attempts++
		c := to.CopierFrom(from)
		c.ProgressFunc = func(_, _ uint64) { kick() } // after every rewrite call
		attrs, err = c.Run(ctx)
		return err
	})
	if err != nil && attempts > 1 && pre != (Precondition{}) && preconditionFailed(err) {
		s, serr := g.attrs(ctx, g.object(src))
		d, derr := g.attrs(ctx, g.object(dst))
		if serr == nil && derr == nil && s.Size == d.Size && s.CRC32C == d.CRC32C {
			return d, nil
		}
	}
	return attrs, err
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
	// A listing is retried whole; each page has the budget's Timeout.
	err := g.retry.Call(ctx, true, func(ctx context.Context, kick func()) error {
		out = out[:0]
		it := g.bucket.Retryer(storage.WithPolicy(storage.RetryNever)).Objects(ctx, q)
		for {
			attrs, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			kick()
			rel := strings.TrimPrefix(attrs.Name, root)
			if CheckPath(rel) != nil {
				continue
			}
			out = append(out, g.infoOf(rel, attrs))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", g.URI(dir), err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Delete implements Lake.
func (g *GCS) Delete(ctx context.Context, p string) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	// Retried: a delete that landed unseen answers 404 the second time, which
	// is success; the lake deletes only objects no one recreates under the name
	// (run folders, staging, leftovers).
	err := g.retry.Call(ctx, true, func(ctx context.Context, _ func()) error {
		err := g.object(p).Delete(ctx)
		if errors.Is(err, storage.ErrObjectNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
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
	case conditional && preconditionFailed(err):
		return fmt.Errorf("%s %s: %w: %w", op, uri, ErrPrecondition, err)
	}
	return fmt.Errorf("%s %s: %w", op, uri, err)
}

// preconditionFailed reports whether err is a failed precondition (412; 304
// and 409 as some emulators and the XML API say it).
func preconditionFailed(err error) bool {
	return isHTTP(err, http.StatusPreconditionFailed) || isHTTP(err, http.StatusNotModified) || isHTTP(err, http.StatusConflict)
}

// gcsReader streams an object. When a response fails or stalls (no byte within
// the budget's Timeout) it reopens the object where it stopped, pinned to the
// generation it first opened, within the budget (counted afresh after every
// byte). It checks the CRC32C itself: a resumed read is a range read, which the
// client library does not check.
type gcsReader struct {
	g   *GCS
	ctx context.Context
	p   string
	obj *storage.ObjectHandle
	rt  *retrier
	crc hash.Hash32

	r      *storage.Reader // nil between a failure and the reopen
	rctx   context.Context
	guard  *stallGuard
	opened bool
	off    int64
	size   int64
	want   uint32
	check  bool
}

func (r *gcsReader) open() error {
	for {
		rctx, guard := newStallGuard(r.ctx, r.g.retry.Timeout)
		sr, err := r.obj.NewRangeReader(rctx, r.off, -1)
		if err == nil {
			if !r.opened {
				r.opened = true
				r.obj = r.obj.Generation(sr.Attrs.Generation)
				r.size, r.want = sr.Attrs.Size, sr.Attrs.CRC32C
				r.check = r.want != 0 && !sr.Attrs.Decompressed
			}
			r.r, r.rctx, r.guard = sr, rctx, guard
			guard.kick()
			return nil
		}
		stall := stalled(rctx)
		guard.stop()
		if err := r.rt.again(r.ctx, err, true, stall); err != nil {
			return r.g.mapErr("open", r.p, err, false)
		}
	}
}

func (r *gcsReader) Read(b []byte) (int, error) {
	for {
		if r.r == nil {
			if err := r.open(); err != nil {
				return 0, err
			}
		}
		n, err := r.r.Read(b)
		if n > 0 {
			r.guard.kick()
			r.crc.Write(b[:n])
			r.off += int64(n)
			r.rt.progressed()
		}
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF:
			if r.check && r.off == r.size && r.crc.Sum32() != r.want {
				return n, fmt.Errorf("read %s: crc32c %s, the object says %s", r.g.URI(r.p), EncodeCRC32C(r.crc.Sum32()), EncodeCRC32C(r.want))
			}
			return n, io.EOF
		}
		stall := stalled(r.rctx)
		r.release()
		if aerr := r.rt.again(r.ctx, err, true, stall); aerr != nil {
			return n, r.g.mapErr("read", r.p, aerr, false)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// release closes the current response.
func (r *gcsReader) release() {
	if r.r != nil {
		r.guard.stop()
		_ = r.r.Close()
		r.r = nil
	}
}

func (r *gcsReader) Close() error {
	r.release()
	return nil
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
