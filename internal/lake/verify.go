package lake

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path"
)

// Matches says whether a stored object has the size and crc32c the manifest lists.
func (f File) Matches(info ObjectInfo) bool {
	return info.Size == f.Bytes && info.CRC32C == f.CRC32C
}

// FileState is one manifest-listed file as found in the lake.
type FileState struct {
	File File
	// Path is the file's lake path.
	Path string
	// Missing is true when no object exists at Path; Info is then empty.
	Missing bool
	Info    ObjectInfo
}

// Intact says the file exists with the listed size and checksum.
func (s FileState) Intact() bool { return !s.Missing && s.File.Matches(s.Info) }

// StatFiles stats every listed file under dir, the one check that staged or
// committed files are intact. A missing file is reported in its FileState; any
// other stat failure is returned, since it says nothing about the data.
func StatFiles(ctx context.Context, l Lake, dir string, files []File) ([]FileState, error) {
	out := make([]FileState, len(files))
	for i, f := range files {
		p := path.Join(dir, f.Path)
		out[i] = FileState{File: f, Path: p}
		info, err := l.Stat(ctx, p)
		switch {
		case errors.Is(err, ErrNotExist):
			out[i].Missing = true
		case err != nil:
			return nil, fmt.Errorf("stat %s: %w", p, err)
		default:
			out[i].Info = info
		}
	}
	return out, nil
}

// ChangedFiles are the lake paths of a partition's listed files that are missing
// or differ from its manifest.
func ChangedFiles(ctx context.Context, l Lake, p *Partition) ([]string, error) {
	states, err := StatFiles(ctx, l, p.Dir, p.Manifest.Files)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, s := range states {
		if !s.Intact() {
			bad = append(bad, s.Path)
		}
	}
	return bad, nil
}

// ErrChanged is a file whose bytes are not the ones its manifest lists.
var ErrChanged = errors.New("differs from its manifest")

// VerifyLocal checks that a local file (a downloaded copy, or a local lake's file
// read in place) has the size and crc32c the manifest lists for it, so what DuckDB
// reads next is what the gate judged: a file swapped after its gate fails here.
func VerifyLocal(local string, f File) error {
	fh, err := os.Open(local)
	if err != nil {
		return err
	}
	defer fh.Close()
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, fh)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	if sum := EncodeCRC32C(h.Sum32()); n != f.Bytes || sum != f.CRC32C {
		return fmt.Errorf("%s has %d bytes and crc32c %s, the manifest lists %d bytes and crc32c %s: %w",
			f.Path, n, sum, f.Bytes, f.CRC32C, ErrChanged)
	}
	return nil
}
