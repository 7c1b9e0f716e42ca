package lake

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/shoplake/lakehouse/internal/fail"
)

// tmpPrefix marks files being written; List skips them.
const tmpPrefix = ".tmp-"

// lockDir holds the lock files that serialize compare-and-swap writes.
const lockDir = ".locks"

// Local is a lake in a local directory. Writes go to a temporary file first and
// become visible by rename (replace) or link (create-only), both atomic on POSIX.
type Local struct {
	root string
	// link makes a hard link (os.Link; tests inject a file system that refuses).
	link func(oldname, newname string) error
}

// NewLocal opens (creating if needed) a lake rooted at dir.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("open lake %s: %w", dir, err)
	}
	return &Local{root: abs, link: os.Link}, nil
}

// Root is the lake's directory.
func (l *Local) Root() string { return l.root }

// LocalPath implements Localizer.
func (l *Local) LocalPath(p string) string { return filepath.Join(l.root, filepath.FromSlash(p)) }

// URI implements Lake.
func (l *Local) URI(p string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(l.root, filepath.FromSlash(p)))}
	return u.String()
}

// Close implements Lake.
func (l *Local) Close() error { return nil }

// Open implements Lake.
func (l *Local) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := CheckPath(p); err != nil {
		return nil, err
	}
	f, err := l.openNoFollow(p)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", p, ErrNotExist)
	}
	return f, nil
}

// Stat implements Lake. It reads the file to compute its checksum.
func (l *Local) Stat(ctx context.Context, p string) (ObjectInfo, error) {
	if err := CheckPath(p); err != nil {
		return ObjectInfo{}, err
	}
	f, err := l.openNoFollow(p)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ObjectInfo{}, mapErr(p, err)
	}
	if st.IsDir() {
		return ObjectInfo{}, fmt.Errorf("%s: %w", p, ErrNotExist)
	}
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, f); err != nil {
		return ObjectInfo{}, fmt.Errorf("read %s: %w", p, err)
	}
	info := infoOf(p, st)
	info.CRC32C = EncodeCRC32C(h.Sum32())
	return info, nil
}

// Write implements Lake.
func (l *Local) Write(ctx context.Context, p string, r io.Reader, pre Precondition) (ObjectInfo, error) {
	if err := CheckPath(p); err != nil {
		return ObjectInfo{}, err
	}
	dst := l.LocalPath(p)
	if err := l.noSymlinks(path.Dir(p)); err != nil {
		return ObjectInfo{}, fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return ObjectInfo{}, fmt.Errorf("write %s: %w", p, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), tmpPrefix+"*")
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("write %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	h := crc32.New(castagnoli)
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return ObjectInfo{}, fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return ObjectInfo{}, fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return ObjectInfo{}, fmt.Errorf("write %s: %w", p, err)
	}
	if err := l.place(p, tmp.Name(), pre); err != nil {
		return ObjectInfo{}, err
	}
	st, err := os.Stat(dst)
	if err != nil {
		return ObjectInfo{}, mapErr(p, err)
	}
	info := infoOf(p, st)
	info.CRC32C = EncodeCRC32C(h.Sum32())
	return info, nil
}

// place makes the finished temporary file visible as p, honouring pre.
func (l *Local) place(p, tmp string, pre Precondition) error {
	dst := l.LocalPath(p)
	switch {
	case pre.DoesNotExist:
		// link(2) fails if dst exists: an atomic create-only.
		if err := os.Link(tmp, dst); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("create %s: object exists: %w", p, ErrPrecondition)
			}
			return fmt.Errorf("write %s: %w", p, err)
		}
		return syncDir(filepath.Dir(dst))
	case pre.GenerationMatch != 0:
		unlock, err := l.lock(p)
		if err != nil {
			return err
		}
		defer unlock()
		st, err := os.Stat(dst)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("replace %s: object is gone: %w", p, ErrPrecondition)
			}
			return fmt.Errorf("write %s: %w", p, err)
		}
		if g := generation(st); g != pre.GenerationMatch {
			return fmt.Errorf("replace %s: generation %d, expected %d: %w", p, g, pre.GenerationMatch, ErrPrecondition)
		}
		if err := os.Rename(tmp, dst); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		return syncDir(filepath.Dir(dst))
	default:
		if err := os.Rename(tmp, dst); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		return syncDir(filepath.Dir(dst))
	}
}

// lock serializes compare-and-swap writes of one path across processes (flock).
// Create-only writes need no lock (link is atomic); readers never lock.
func (l *Local) lock(p string) (func(), error) {
	dir := filepath.Join(l.root, lockDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	h := fnv.New64a()
	h.Write([]byte(p))
	f, err := os.OpenFile(filepath.Join(dir, hex.EncodeToString(h.Sum(nil))), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Copy implements Lake. A create-only copy (publish placing a staged file in its
// run folder) is a hard link where the file system allows: objects are replaced by
// rename, never rewritten in place, so the two names share bytes that never change,
// and the source stays readable. A link the file system refuses (another device, no
// hard links) and every other copy stream the bytes through Write.
func (l *Local) Copy(ctx context.Context, src, dst string, pre Precondition) (ObjectInfo, error) {
	if err := CheckPath(src); err != nil {
		return ObjectInfo{}, err
	}
	if err := CheckPath(dst); err != nil {
		return ObjectInfo{}, err
	}
	if pre.DoesNotExist {
		d := l.LocalPath(dst)
		if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
			return ObjectInfo{}, fmt.Errorf("copy %s: %w", dst, err)
		}
		// link(2) fails if dst exists: as atomic a create-only as Write's.
		err := l.link(l.LocalPath(src), d)
		switch {
		case err == nil:
			if err := syncDir(filepath.Dir(d)); err != nil {
				return ObjectInfo{}, err
			}
			// Stat reads the file for its checksum: the caller still verifies it.
			info, err := l.Stat(ctx, dst)
			info.CopiedBy = CopyLinked
			return info, err
		case errors.Is(err, fs.ErrExist):
			return ObjectInfo{}, fmt.Errorf("copy to %s: object exists: %w", dst, ErrPrecondition)
		case errors.Is(err, fs.ErrNotExist):
			return ObjectInfo{}, mapErr(src, err)
		}
		// Any other refusal (EXDEV, EPERM, ENOTSUP...): fall back to streaming.
	}
	rc, err := l.Open(ctx, src)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer rc.Close()
	info, err := l.Write(ctx, dst, rc, pre)
	info.CopiedBy = CopyStreamed
	return info, err
}

// List implements Lake.
func (l *Local) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	base := l.root
	if prefix != "" {
		if err := CheckPath(strings.TrimSuffix(prefix, "/")); err != nil {
			return nil, err
		}
		base = l.LocalPath(strings.TrimSuffix(prefix, "/"))
	}
	if prefix != "" {
		if err := l.noSymlinks(strings.TrimSuffix(prefix, "/")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
	}
	var out []ObjectInfo
	err := filepath.WalkDir(base, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		name := d.Name()
		if d.Type()&fs.ModeSymlink != 0 {
			rel, _ := filepath.Rel(l.root, fp)
			return fmt.Errorf("%s: %w", filepath.ToSlash(rel), ErrSymlink)
		}
		if d.IsDir() {
			if fp != base && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, tmpPrefix) {
			return nil
		}
		rel, err := filepath.Rel(l.root, fp)
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out = append(out, infoOf(filepath.ToSlash(rel), st))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// ErrSymlink is a symbolic link inside a local lake. Everything in the lake is
// untrusted (DESIGN section 5), and a link would let a manifest, a data file or a
// partition folder stand for a file outside the lake, so every access refuses one.
// It is classified as bad data (exit 3) wherever it surfaces: the lake's content is
// wrong, and retrying will not help.
var ErrSymlink = fail.Data(errors.New("is a symbolic link, which a local lake refuses (it could stand for a file outside the lake)"))

// noSymlinks checks that no folder or file on the way from the root to p is a
// symbolic link (the root itself may be one: it is the operator's --lake).
// A missing component ends the check: there is nothing to follow.
func (l *Local) noSymlinks(p string) error {
	if p == "." || p == "" {
		return nil
	}
	cur := l.root
	for _, seg := range strings.Split(p, "/") {
		cur = filepath.Join(cur, seg)
		st, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			rel, _ := filepath.Rel(l.root, cur)
			return fmt.Errorf("%s: %w", filepath.ToSlash(rel), ErrSymlink)
		}
	}
	return nil
}

// openNoFollow opens p for reading, refusing a symbolic link anywhere on its way;
// O_NOFOLLOW closes the gap for the last component between the check and the open.
func (l *Local) openNoFollow(p string) (*os.File, error) {
	if err := l.noSymlinks(path.Dir(p)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(l.LocalPath(p), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s: %w", p, ErrSymlink)
	}
	if err != nil {
		return nil, mapErr(p, err)
	}
	return f, nil
}

// Resolve is LocalPath for a file DuckDB will read in place (Localize): it refuses
// a path with a symbolic link on its way, which DuckDB would follow.
func (l *Local) Resolve(p string) (string, error) {
	if err := l.noSymlinks(p); err != nil {
		return "", err
	}
	return l.LocalPath(p), nil
}

// Delete implements Lake.
func (l *Local) Delete(ctx context.Context, p string) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	if err := os.Remove(l.LocalPath(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	return nil
}

func infoOf(p string, st fs.FileInfo) ObjectInfo {
	return ObjectInfo{Path: p, Size: st.Size(), Generation: generation(st), Updated: st.ModTime().UTC()}
}

// generation identifies one version of a local file: a rename installs a new inode
// with a new modification time, so the pair changes on every write.
func generation(st fs.FileInfo) int64 {
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	h := fnv.New64a()
	var b [24]byte
	binary.BigEndian.PutUint64(b[0:], ino)
	binary.BigEndian.PutUint64(b[8:], uint64(st.ModTime().UnixNano()))
	binary.BigEndian.PutUint64(b[16:], uint64(st.Size()))
	h.Write(b[:])
	g := int64(h.Sum64() &^ (1 << 63))
	if g == 0 {
		g = 1
	}
	return g
}

func mapErr(p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", p, ErrNotExist)
	}
	return fmt.Errorf("%s: %w", p, err)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // best effort: some file systems do not sync directories
	return nil
}

// randomHex is used for run ids and temporary names.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
