package dagsgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
)

// ChangeKind says how a folder differs from the generated files.
type ChangeKind string

// Kinds of Change.
const (
	Missing ChangeKind = "missing" // generated, not on disk
	Differs ChangeKind = "differs" // on disk with other content
	Stale   ChangeKind = "stale"   // on disk, carries this generator's marker, no longer generated
)

// Change is one file of a folder that does not match the generated files.
type Change struct {
	Name string // file name within the folder
	Kind ChangeKind
	// Diff is a unified diff from the file on disk to the generated one (Differs),
	// or of the whole file (Missing: from nothing; Stale: to nothing).
	Diff []byte
}

// Compare lists how the folder dir differs from files, by file name: generated
// files missing or different on disk, and files on disk whose first line is marker
// (the same pipeline and flavor) that files no longer holds, such as the other
// deploy mode's DAGs. Other files are not looked at. A missing folder is empty.
func Compare(dir string, files map[string][]byte, marker string) ([]Change, error) {
	var out []Change
	for _, name := range sortedKeys(files) {
		p := filepath.Join(dir, name)
		old, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, Change{Name: name, Kind: Missing, Diff: diff.Diff("/dev/null", nil, p, files[name])})
		case err != nil:
			return nil, fmt.Errorf("dags: compare %s: %w", p, err)
		case !bytes.Equal(old, files[name]):
			out = append(out, Change{Name: name, Kind: Differs, Diff: diff.Diff(p+" (on disk)", old, p+" (generated)", files[name])})
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("dags: compare %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".py") || files[e.Name()] != nil {
			continue
		}
		p := filepath.Join(dir, e.Name())
		first, err := firstLine(p)
		if err != nil {
			return nil, fmt.Errorf("dags: compare %s: %w", p, err)
		}
		if first != marker {
			continue
		}
		old, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("dags: compare %s: %w", p, err)
		}
		out = append(out, Change{Name: e.Name(), Kind: Stale, Diff: diff.Diff(p, old, "/dev/null", nil)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func firstLine(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", nil // empty file
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// Apply makes the folder dir match the generated files: it writes the missing and
// differing files (each atomically, by rename) and removes the stale ones.
func Apply(dir string, files map[string][]byte, changes []Change) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dags: %w", err)
	}
	for _, c := range changes {
		p := filepath.Join(dir, c.Name)
		if c.Kind == Stale {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("dags: remove stale %s: %w", p, err)
			}
			continue
		}
		if err := writeAtomic(p, files[c.Name]); err != nil {
			return fmt.Errorf("dags: write %s: %w", p, err)
		}
	}
	return nil
}

func writeAtomic(p string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
