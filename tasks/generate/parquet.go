package generate

import (
	"bufio"
	"context"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"path"
	"reflect"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/shoplake/lakehouse/internal/lake"
)

// maxCols is the widest shop table.
const maxCols = 8

// rec is one bronze row being built, by generator column; a nil value is NULL.
type rec struct {
	v [maxCols][]byte
	// upd is updated_at (payments: paid_ts) in seconds into the day, and born the
	// earliest an older version of the row may be (the order time, the sign-up).
	upd, born int32
}

// arena holds the bytes of the rows of one batch; it is reset between batches,
// never while a row is being built, so slices into it stay valid until written.
type arena struct{ b []byte }

func (a *arena) mark() int { return len(a.b) }

func (a *arena) since(m int) []byte { return a.b[m:len(a.b):len(a.b)] }

// empty is a present, empty string, unlike nil (NULL).
var empty = []byte{}

// batchRows is how many rows are buffered before they go to the Parquet writer.
const batchRows = 1024

// partitionWriter streams one bronze partition to Parquet files in the lake and
// writes its _MANIFEST.json once every file is in place.
type partitionWriter struct {
	ctx          context.Context
	lake         lake.Lake
	bt           *boundTable
	dir          string
	key, value   string
	extractedAt  string
	maxFileRows  int64
	rowGroupRows int64

	arena    arena
	up       *upload
	w        *parquet.Writer
	batch    []parquet.Row
	nb       int
	fileRows int64
	files    []lake.File
	rows     int64
	bytes    int64
}

func newPartitionWriter(ctx context.Context, l lake.Lake, bt *boundTable, key string, d *dayInfo, cfg config) *partitionWriter {
	return &partitionWriter{
		ctx:          ctx,
		lake:         l,
		bt:           bt,
		dir:          lake.PartitionDir(lake.Bronze, bt.def.name, key, d.iso),
		key:          key,
		value:        d.iso,
		extractedAt:  d.date.AddDate(0, 0, 1).Add(extractedAfterMidnight).Format("2006-01-02T15:04:05Z"),
		maxFileRows:  cfg.maxFileRows,
		rowGroupRows: cfg.rowGroupRows,
		arena:        arena{b: make([]byte, 0, 64<<10)},
	}
}

// emit appends one row to the partition.
func (pw *partitionWriter) emit(r *rec) error {
	if pw.w == nil {
		pw.openFile()
	}
	if pw.nb == len(pw.batch) {
		pw.batch = append(pw.batch, make(parquet.Row, len(pw.bt.perm)))
	}
	row := pw.batch[pw.nb]
	for o, g := range pw.bt.perm {
		if v := r.v[g]; v == nil {
			row[o] = parquet.NullValue().Level(0, 0, o)
		} else {
			row[o] = parquet.ByteArrayValue(v).Level(0, 1, o)
		}
	}
	pw.nb++
	pw.fileRows++
	pw.rows++
	if pw.fileRows == pw.maxFileRows {
		if err := pw.writeBatch(); err != nil {
			return err
		}
		return pw.closeFile()
	}
	return nil
}

// boundary is called between logical rows: it hands full batches to the Parquet
// writer and recycles the arena.
func (pw *partitionWriter) boundary() error {
	if pw.nb < batchRows {
		return nil
	}
	if err := pw.writeBatch(); err != nil {
		return err
	}
	pw.arena.b = pw.arena.b[:0]
	return pw.ctx.Err()
}

func (pw *partitionWriter) writeBatch() error {
	if pw.nb == 0 {
		return nil
	}
	if _, err := pw.w.WriteRows(pw.batch[:pw.nb]); err != nil {
		return fmt.Errorf("write %s: %w", pw.dir, err)
	}
	pw.nb = 0
	return nil
}

func (pw *partitionWriter) fileName() string {
	return "part-" + leftPad(strconv.Itoa(len(pw.files)), 5) + ".parquet"
}

// openFile starts the next Parquet file, streamed into the lake as it is encoded.
func (pw *partitionWriter) openFile() {
	pw.up = startUpload(pw.ctx, pw.lake, path.Join(pw.dir, pw.fileName()))
	pw.w = parquet.NewWriter(pw.up, pw.bt.schema,
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(pw.rowGroupRows),
		parquet.CreatedBy(Source, "1", "generate"))
}

// closeFile finishes the current Parquet file and waits until the lake has it.
func (pw *partitionWriter) closeFile() error {
	if pw.w == nil {
		return nil
	}
	err := pw.w.Close()
	n, sum, uerr := pw.up.finish(err)
	pw.w, pw.up = nil, nil
	if err != nil {
		return fmt.Errorf("write %s: %w", pw.dir, err)
	}
	if uerr != nil {
		return uerr
	}
	pw.files = append(pw.files, lake.File{Path: pw.fileName(), Rows: pw.fileRows, Bytes: n, CRC32C: lake.EncodeCRC32C(sum)})
	pw.bytes += n
	pw.fileRows = 0
	return nil
}

// abort drops a partition that failed half-way; its manifest is never written.
func (pw *partitionWriter) abort(cause error) {
	if pw.up != nil {
		pw.up.finish(cause)
		pw.w, pw.up = nil, nil
	}
}

// upload streams one object into the lake through a pipe, counting its bytes
// and CRC-32C on the way for the manifest.
type upload struct {
	pw   *io.PipeWriter
	bw   *bufio.Writer
	crc  hash.Hash32
	n    int64
	done chan error
}

func startUpload(ctx context.Context, l lake.Lake, p string) *upload {
	pr, pw := io.Pipe()
	u := &upload{pw: pw, crc: crc32.New(crc32.MakeTable(crc32.Castagnoli)), done: make(chan error, 1)}
	u.bw = bufio.NewWriterSize(pw, 1<<20)
	go func() {
		_, err := l.Write(ctx, p, pr, lake.Precondition{})
		pr.CloseWithError(err) // unblocks the encoder if the store failed
		u.done <- err
	}()
	return u
}

func (u *upload) Write(b []byte) (int, error) {
	u.crc.Write(b)
	u.n += int64(len(b))
	return u.bw.Write(b)
}

// finish ends the object: cause nil commits it, else the store discards it.
func (u *upload) finish(cause error) (int64, uint32, error) {
	if cause == nil {
		cause = u.bw.Flush()
	}
	if cause != nil {
		u.pw.CloseWithError(cause)
	} else {
		u.pw.Close()
	}
	err := <-u.done
	return u.n, u.crc.Sum32(), err
}

// finish writes the last file and then the manifest, the partition's commit point.
func (pw *partitionWriter) finish() (*lake.Manifest, error) {
	if err := pw.writeBatch(); err != nil {
		return nil, err
	}
	if pw.w == nil && len(pw.files) == 0 {
		pw.openFile() // an empty partition still gets a (row-less) file with the schema
	}
	if err := pw.closeFile(); err != nil {
		return nil, err
	}
	m := &lake.Manifest{
		Version:     lake.ManifestVersion,
		Table:       pw.bt.def.name,
		Partition:   map[string]string{pw.key: pw.value},
		RowCount:    pw.rows,
		Files:       pw.files,
		Schema:      pw.bt.fields,
		Source:      Source,
		ExtractedAt: pw.extractedAt,
	}
	if _, err := lake.WriteBytes(pw.ctx, pw.lake, path.Join(pw.dir, lake.ManifestFile), lake.EncodeJSON(m), lake.Precondition{}); err != nil {
		return nil, err
	}
	return m, nil
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// parquetSchema is one OPTIONAL string column per bronze column, in spec order.
func parquetSchema(table string, cols []string) *parquet.Schema {
	fields := make([]reflect.StructField, len(cols))
	for i, c := range cols {
		fields[i] = reflect.StructField{
			Name: "F" + strconv.Itoa(i),
			Type: reflect.TypeFor[*string](),
			Tag:  reflect.StructTag(`parquet:` + strconv.Quote(c+",optional")),
		}
	}
	return parquet.NewSchema(table, parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface()))
}
