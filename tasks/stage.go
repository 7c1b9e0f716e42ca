package tasks

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
)

// Scratch is a task's temp folder with a DuckDB session that spills there.
type Scratch struct {
	// Dir is the temp folder, removed by Close.
	Dir     string
	Session *duck.Session
}

// Close closes the session and removes the folder.
func (s *Scratch) Close() {
	s.Session.Close()
	os.RemoveAll(s.Dir)
}

// OpenScratch makes a fresh temp folder under WorkDir and opens a DuckDB session
// whose temp_directory is inside it (unless the options name one), so a task's
// spill files go away with its folder. The session is sandboxed (duck.Sandbox):
// it reads and writes files only in that folder and, on a local lake, under the
// lake's root, where Localize leaves the task's inputs.
func (e *Env) OpenScratch(ctx context.Context, pattern string) (*Scratch, error) {
	sc, err := e.openScratch(ctx, pattern)
	if err != nil {
		return nil, err
	}
	if err := sc.Session.Sandbox(ctx, append(e.SandboxDirs(), sc.Dir)...); err != nil {
		sc.Close()
		return nil, err
	}
	return sc, nil
}

// SandboxDirs are the folders any DuckDB session of a task may touch besides its
// own scratch folder: the spill folder the options name and a local lake's root
// (where Localize leaves inputs in place).
func (e *Env) SandboxDirs() []string {
	var dirs []string
	if e.Duck.TempDir != "" {
		if abs, err := filepath.Abs(e.Duck.TempDir); err == nil {
			dirs = append(dirs, abs)
		}
	}
	if lz, ok := e.Lake.(lake.Localizer); ok {
		if abs, err := filepath.Abs(lz.LocalPath("")); err == nil {
			dirs = append(dirs, abs)
		}
	}
	return dirs
}

func (e *Env) openScratch(ctx context.Context, pattern string) (*Scratch, error) {
	dir, err := e.TempDir(pattern)
	if err != nil {
		return nil, err
	}
	o := e.Duck
	if o.TempDir == "" {
		o.TempDir = filepath.Join(dir, "duckdb-tmp")
	}
	s, err := duck.Open(ctx, o)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		s.Close()
		return nil, err
	}
	return &Scratch{Dir: dir, Session: s}, nil
}

// Compression is the Parquet codec of every file a build stages.
const Compression = "zstd"

// StagedFile is the one data file name of a staged partition.
const StagedFile = "part-00000.parquet"

// Output is one partition a build stages from a query.
type Output struct {
	// Query is the SELECT written to Parquet.
	Query string
	// Dir is the staging folder; the file and its manifest go there.
	Dir string
	// Rows is how many rows the build counted; the written file must hold them.
	Rows int64
	// Manifest carries the table's fields; RowCount and Files are filled in.
	Manifest lake.Manifest
	// Schema, when set, describes the written local file for the manifest.
	Schema func(local string) ([]lake.Field, error)
}

// Stage writes out.Query to Parquet, uploads it to out.Dir and writes the staged
// manifest after it (so a listed partition is complete). It returns the manifest
// and its lake path.
func (s *Scratch) Stage(ctx context.Context, l lake.Lake, out Output) (lake.Manifest, string, error) {
	m := out.Manifest
	local := filepath.Join(s.Dir, fmt.Sprintf("stage-%s-%s.parquet", m.Layer, m.Table))
	q := fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION %s)", out.Query, duck.Str(local), Compression)
	res, err := s.Session.Conn.ExecContext(ctx, q)
	if err != nil {
		return m, "", fmt.Errorf("write %s: %w", out.Dir, err)
	}
	if n, err := res.RowsAffected(); err == nil && n != out.Rows {
		return m, "", fmt.Errorf("write %s: wrote %d rows, counted %d", out.Dir, n, out.Rows)
	}
	if out.Schema != nil {
		if m.Schema, err = out.Schema(local); err != nil {
			return m, "", err
		}
	}
	info, err := lake.Upload(ctx, l, local, path.Join(out.Dir, StagedFile), lake.Precondition{})
	if err != nil {
		return m, "", err
	}
	m.RowCount = out.Rows
	m.Files = []lake.File{{Path: StagedFile, Rows: out.Rows, Bytes: info.Size, CRC32C: info.CRC32C}}
	mp := path.Join(out.Dir, lake.ManifestFile)
	if _, err := lake.WriteBytes(ctx, l, mp, lake.EncodeJSON(&m), lake.Precondition{}); err != nil {
		return m, "", err
	}
	return m, mp, nil
}
