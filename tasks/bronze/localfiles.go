package bronze

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

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

// Path returns a local path holding the object p.
func (f *localFiles) Path(ctx context.Context, p string) (string, error) {
	if loc, ok := f.lake.(lake.Localizer); ok {
		return loc.LocalPath(p), nil
	}
	if err := lake.CheckPath(p); err != nil {
		return "", err
	}
	if f.dir == "" {
		dir, err := os.MkdirTemp(f.workDir, "bronze-objects-*")
		if err != nil {
			return "", fmt.Errorf("make scratch folder: %w", err)
		}
		f.dir = dir
	}
	dst := filepath.Join(f.dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("download %s: %w", p, err)
	}
	rc, err := f.lake.Open(ctx, p)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	out, err := os.Create(dst)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", p, err)
	}
	if _, err := io.Copy(out, rc); err != nil {
		out.Close()
		return "", fmt.Errorf("download %s: %w", p, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("download %s: %w", p, err)
	}
	return dst, nil
}

// Close removes the downloaded copies.
func (f *localFiles) Close() error {
	if f.dir == "" {
		return nil
	}
	return os.RemoveAll(f.dir)
}

// upload writes the local file src to the lake as p.
func upload(ctx context.Context, l lake.Lake, src, p string, pre lake.Precondition) (lake.ObjectInfo, error) {
	in, err := os.Open(src)
	if err != nil {
		return lake.ObjectInfo{}, fmt.Errorf("upload %s: %w", p, err)
	}
	defer in.Close()
	return l.Write(ctx, p, in, pre)
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
