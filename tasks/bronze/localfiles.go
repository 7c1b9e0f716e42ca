package bronze

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/shoplake/lakehouse/internal/lake"
)

// localFiles gives DuckDB, which reads local files, a local path for lake objects:
// the object itself when the lake is a local folder (lake.Localizer), else a copy
// downloaded into a scratch folder under workDir. Close removes the copies.
type localFiles struct {
	lake    lake.Lake
	workDir string
	dir     string // scratch folder, made on the first download
}

func newLocalFiles(l lake.Lake, workDir string) *localFiles {
	return &localFiles{lake: l, workDir: workDir}
}

// Path returns a local path holding the object p (lake.Localize, one file at a
// time: the gate fetches only files whose earlier checks passed).
func (f *localFiles) Path(ctx context.Context, p string) (string, error) {
	if _, ok := f.lake.(lake.Localizer); !ok && f.dir == "" {
		dir, err := os.MkdirTemp(f.workDir, "bronze-objects-*")
		if err != nil {
			return "", fmt.Errorf("make scratch folder: %w", err)
		}
		f.dir = dir
	}
	locals, err := lake.Localize(ctx, f.lake, []string{p}, f.dir)
	if err != nil {
		return "", err
	}
	return locals[0], nil
}

// Close removes the downloaded copies.
func (f *localFiles) Close() error {
	if f.dir == "" {
		return nil
	}
	return os.RemoveAll(f.dir)
}

// fileCRC32C is the GCS-style checksum of a local file, and its size.
func fileCRC32C(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return lake.EncodeCRC32C(h.Sum32()), n, nil
}
