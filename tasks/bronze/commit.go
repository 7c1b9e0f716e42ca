package bronze

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
)

// The commit protocol of `bronze import` (DESIGN section 3): data files under
// names no other import uses, each uploaded create-only; then the manifest,
// create-only, as the commit point. Whatever fails, a lost race or a signal
// included, the import deletes only its own files, and only once it knows no
// manifest names them.

// cleanupTimeout bounds the lake calls an import makes after it failed or was
// cancelled (re-reading the manifest, deleting its own files): a pod has its
// termination grace period, about 30 s, to finish them.
const cleanupTimeout = 20 * time.Second

// newImportID names one import's files: 12 random hex digits, so two imports
// never share a file name (a collision would fail a create-only upload, never
// overwrite).
func newImportID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// existing returns the partition's manifest when it already holds files with the
// content of files (same rows, bytes and crc32c, in order; names may differ) and
// every file it names is intact: the import is then a no-op. It returns nil when
// the partition has no manifest, and a data error when the manifest lists other
// content, does not parse, or names files that are missing or changed.
func (im *importer) existing(ctx context.Context, files []lake.File) (*lake.Manifest, error) {
	mp := im.tg.manifestPath()
	cur, _, err := lake.ReadManifest(ctx, im.env.Lake, mp)
	if errors.Is(err, lake.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		if _, serr := im.env.Lake.Stat(ctx, mp); serr == nil {
			// It exists but does not parse: still the partition's commit point.
			return nil, fail.Data(fmt.Errorf("bronze partitions are immutable and %s already exists (and does not parse: %w); import into another partition",
				im.env.Lake.URI(mp), err))
		}
		return nil, err
	}
	return im.judge(ctx, cur, files)
}

// judge decides what an import of files does with the manifest cur already in
// place: nothing (cur has this content and its files are intact: cur is
// returned), or refuse it (other content, or a damaged partition: a data error).
func (im *importer) judge(ctx context.Context, cur *lake.Manifest, files []lake.File) (*lake.Manifest, error) {
	mp := im.tg.manifestPath()
	if !sameContent(cur, im.tg, files) {
		// Exit 3, not 2: the command line is valid (it succeeds on an empty
		// partition); the data it brings conflicts with the data already there.
		return nil, fail.Data(fmt.Errorf("bronze partitions are immutable and %s already lists other files (%d rows in %d file(s)); import into another partition",
			im.env.Lake.URI(mp), cur.RowCount, len(cur.Files)))
	}
	states, err := lake.StatFiles(ctx, im.env.Lake, im.tg.dir, cur.Files)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, s := range states {
		switch {
		case s.Missing:
			bad = append(bad, s.File.Path+" is missing")
		case !s.Intact():
			bad = append(bad, fmt.Sprintf("%s has %d bytes and crc32c %s, the manifest says %d and %s", s.File.Path, s.Info.Size, s.Info.CRC32C, s.File.Bytes, s.File.CRC32C))
		}
	}
	if len(bad) > 0 {
		// Refused, not repaired: bronze is never rewritten in place, and whoever
		// damaged it should be found, not papered over.
		return nil, fail.Data(fmt.Errorf("%s lists this content but its files are damaged: %s; delete the partition's manifest and files, then import again",
			im.env.Lake.URI(mp), strings.Join(bad, "; ")))
	}
	return cur, nil
}

// sameContent says whether manifest m holds the table's partition with files of
// the same rows, bytes and checksums as files, in order.
func sameContent(m *lake.Manifest, tg target, files []lake.File) bool {
	if m.Table != tg.table.Name || len(m.Partition) != 1 || m.Partition[tg.key] != tg.value || len(m.Files) != len(files) {
		return false
	}
	for i, f := range files {
		c := m.Files[i]
		if c.Rows != f.Rows || c.Bytes != f.Bytes || c.CRC32C != f.CRC32C {
			return false
		}
	}
	return true
}

// namesOurs says whether manifest m is the one this import wrote: it lists
// exactly these files, whose names no other import uses.
func namesOurs(m *lake.Manifest, files []lake.File) bool {
	if len(m.Files) != len(files) {
		return false
	}
	for i, f := range files {
		if m.Files[i] != f {
			return false
		}
	}
	return true
}

// commit uploads the files (locals[i] holds m.Files[i]) and then the manifest m,
// each create-only. It returns a manifest only when another import committed
// the same content first (the import is then a no-op).
func (im *importer) commit(ctx context.Context, m *lake.Manifest, locals []string) (*lake.Manifest, error) {
	l := im.env.Lake
	var own []string // lake paths this import may have created
	for i, f := range m.Files {
		p := path.Join(im.tg.dir, f.Path)
		own = append(own, p) // before the upload: an interrupted one may still land
		info, err := lake.Upload(ctx, l, locals[i], p, lake.Precondition{DoesNotExist: true})
		if errors.Is(err, lake.ErrPrecondition) {
			// A create-only upload the client retried after a lost response
			// finds its own object; anything else under this import's name is
			// not data anyone can have committed.
			if st, serr := l.Stat(ctx, p); serr == nil && f.Matches(st) {
				info, err = st, nil
			}
		}
		if err == nil && !f.Matches(info) {
			err = fmt.Errorf("uploaded %s differs from the local file (%d bytes, crc32c %s; want %d, %s)", p, info.Size, info.CRC32C, f.Bytes, f.CRC32C)
		}
		if err != nil {
			return nil, im.abandon(ctx, m, own, locals, err)
		}
	}
	_, err := lake.WriteBytes(ctx, l, im.tg.manifestPath(), lake.EncodeJSON(m), lake.Precondition{DoesNotExist: true})
	if err == nil {
		return nil, nil
	}
	return im.settle(ctx, m, own, locals, err)
}

// settle decides a manifest write that returned werr: it failed, lost a race, or
// landed without the import hearing so (a lost response, a signal cutting the
// request short). The manifest now in the lake says which.
func (im *importer) settle(ctx context.Context, m *lake.Manifest, own, locals []string, werr error) (*lake.Manifest, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	mp := im.tg.manifestPath()
	cur, _, err := lake.ReadManifest(cctx, im.env.Lake, mp)
	switch {
	case err == nil && namesOurs(cur, m.Files):
		im.log.Warn("manifest write reported an error, yet the manifest landed: the partition is imported",
			"manifest", im.env.Lake.URI(mp), "error", oneLine(werr.Error()))
		return nil, nil
	case err == nil:
		// Another import committed the partition first.
		im.removeOwn(cctx, own)
		same, jerr := im.judge(cctx, cur, m.Files)
		if jerr != nil {
			return nil, fmt.Errorf("another import committed the partition first: %w", jerr)
		}
		im.log.Info("another import committed the same content first", "manifest", im.env.Lake.URI(mp))
		return same, nil
	case errors.Is(err, lake.ErrNotExist):
		return nil, im.abandon(ctx, m, own, locals, werr)
	}
	if _, serr := im.env.Lake.Stat(cctx, mp); serr == nil {
		// A manifest that does not parse is no manifest this import wrote.
		im.removeOwn(cctx, own)
		return nil, fail.Data(fmt.Errorf("another import committed the partition first: %s does not parse: %w", im.env.Lake.URI(mp), err))
	}
	// Whether the manifest landed is unknown: the files stay, since it may name them.
	im.log.Error("manifest write failed and the manifest cannot be read back: this import's files are left in place",
		"manifest", im.env.Lake.URI(mp), "files", strings.Join(own, ","), "error", oneLine(err.Error()))
	return nil, fmt.Errorf("%w (and re-reading %s failed: %w; this import's files are left in place, unreferenced unless the manifest landed)", werr, mp, err)
}

// abandon removes the import's own files after a failure (werr) with no manifest
// in place, then looks once more: a manifest request cut short by a signal can
// still land after the first look, and if it did and names these files, they are
// put back from the local copies, so the partition is complete after all.
func (im *importer) abandon(ctx context.Context, m *lake.Manifest, own, locals []string, werr error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	im.removeOwn(cctx, own)
	mp := im.tg.manifestPath()
	cur, _, err := lake.ReadManifest(cctx, im.env.Lake, mp)
	if err != nil || !namesOurs(cur, m.Files) {
		return werr
	}
	for i, f := range m.Files {
		p := path.Join(im.tg.dir, f.Path)
		if _, err := lake.Upload(cctx, im.env.Lake, locals[i], p, lake.Precondition{DoesNotExist: true}); err != nil && !errors.Is(err, lake.ErrPrecondition) {
			return fmt.Errorf("%w; the manifest landed late and restoring %s failed: %w", werr, p, err)
		}
	}
	im.log.Warn("the manifest landed after the import gave up: its files are restored and the partition is imported",
		"manifest", im.env.Lake.URI(mp), "error", oneLine(werr.Error()))
	return nil
}

// removeOwn deletes the files this import uploaded (best effort: one left
// behind is unreferenced, and readers go through the manifest only).
func (im *importer) removeOwn(ctx context.Context, own []string) {
	for _, p := range own {
		if err := im.env.Lake.Delete(ctx, p); err != nil {
			im.log.Warn("uploaded file not removed after a failed import", "path", p, "error", err)
		}
	}
}
