package lake

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
)

// Localize returns local file paths for lake objects so DuckDB can read them: the
// files themselves for a local lake, copies under workDir for a remote one.
func Localize(ctx context.Context, l Lake, paths []string, workDir string) ([]string, error) {
	out := make([]string, len(paths))
	if loc, ok := l.(Localizer); ok {
		res, resolves := l.(interface{ Resolve(string) (string, error) })
		for i, p := range paths {
			if err := CheckPath(p); err != nil {
				return nil, err
			}
			out[i] = loc.LocalPath(p)
			if resolves {
				// DuckDB reads the file in place and would follow a link.
				var err error
				if out[i], err = res.Resolve(p); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
	for i, p := range paths {
		dst := filepath.Join(workDir, "in", filepath.FromSlash(p))
		if err := download(ctx, l, p, dst); err != nil {
			return nil, err
		}
		out[i] = dst
	}
	return out, nil
}

func download(ctx context.Context, l Lake, p, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	rc, err := l.Open(ctx, p)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("download %s: %w", l.URI(p), err)
	}
	return f.Close()
}

// Upload stores a local file in the lake as p and describes the stored object.
func Upload(ctx context.Context, l Lake, local, p string, pre Precondition) (ObjectInfo, error) {
	f, err := os.Open(local)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("upload %s: %w", path.Base(local), err)
	}
	defer f.Close()
	return l.Write(ctx, p, f, pre)
}
