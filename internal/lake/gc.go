package lake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// RunLayers are the layers whose partitions hold run=<id>/ folders.
var RunLayers = []string{Silver, Quarantine, Enriched, Dims}

// StagingRoot holds every run's uncommitted output.
const StagingRoot = "_staging"

// MinGrace is the shortest grace period gc accepts: longer than any publish
// takes between writing a run's own manifest (fresh, so it makes the folder
// young) and swapping the commit point to it.
const MinGrace = time.Hour

// GCRequest configures a garbage collection.
type GCRequest struct {
	// Grace keeps anything whose newest object was written less than Grace ago.
	Grace time.Duration
	Now   time.Time
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
}

// GCKind says what a collected folder was.
const (
	GCRun     = "run"     // <layer>/<table>/<key>=<value>/run=<id>/ no commit point names
	GCStaging = "staging" // _staging/<run>/
)

// GCFolder is one folder gc removed (or would remove).
type GCFolder struct {
	Kind    string
	Dir     string // lake path of the folder, without a trailing slash
	Objects int
	Bytes   int64
	// Newest is the Updated time of the folder's newest object.
	Newest time.Time
}

// GCResult says what a garbage collection did.
type GCResult struct {
	Removed []GCFolder
	// Referenced counts run folders kept because a commit point names them.
	Referenced int
	// Young counts unreferenced folders kept because they are within the grace period.
	Young int
	// InFlight counts run folders kept because a publish may be placing their files:
	// no run manifest yet, and the run's staging still holds the partition.
	InFlight int
}

// GC removes run folders that no commit point references and _staging/<run>/
// leftovers, both only when their newest object is older than the grace period
// (DESIGN section 3). Anything a commit point names is never removed: the
// references are read from every commit point first (gc stops, removing nothing,
// if one cannot be read), and each partition's commit point is read again just
// before one of its run folders is removed.
//
// A publish places files in run=<id>/ before its commit point names them, and
// those files keep the staged files' times (hard links, copies), so age alone
// cannot protect them: a run folder without its run manifest is kept while the
// run's staging holds the partition (the publish is placing files, or crashed and
// will be completed by a rerun). Once the run manifest is written it makes the
// folder young, and the grace (at least MinGrace) outlasts the swap that follows.
// Staging is listed before the run folders, so a publish that starts after the
// listing works on staging gc saw. The grace must also exceed the time a reader
// takes between reading a commit point and its files.
func GC(ctx context.Context, l Lake, req GCRequest) (GCResult, error) {
	var res GCResult
	if req.Grace < MinGrace {
		return res, fmt.Errorf("gc: a grace of %s is shorter than the minimum %s: a publish in flight could lose its files", req.Grace, MinGrace)
	}
	cutoff := req.Now.Add(-req.Grace)

	staging := map[string]*GCFolder{}
	stagedParts := map[string]bool{} // <layer>/<table>/<key>=<value>/run=<id> with a staged manifest
	objs, err := l.List(ctx, StagingRoot+"/")
	if err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	for _, o := range objs {
		segs := strings.Split(o.Path, "/")
		if len(segs) >= 3 {
			addObject(staging, GCStaging, path.Join(segs[:2]...), o)
		}
		// _staging/<run>/<layer>/<table>/<key>=<value>/_MANIFEST.json
		if len(segs) == 6 && segs[5] == ManifestFile {
			stagedParts[path.Join(segs[2], segs[3], segs[4], "run="+segs[1])] = true
		}
	}

	runFolders := map[string]*GCFolder{}
	runManifests := map[string]bool{} // run folder -> holds its own manifest
	commitPoints := map[string]bool{} // partition dir -> has a commit point
	for _, layer := range RunLayers {
		objs, err := l.List(ctx, layer+"/")
		if err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
		for _, o := range objs {
			segs := strings.Split(o.Path, "/")
			switch {
			case len(segs) == 4 && segs[3] == ManifestFile && strings.Contains(segs[2], "="):
				commitPoints[path.Join(segs[:3]...)] = true
			case len(segs) >= 5 && strings.HasPrefix(segs[3], "run=") && strings.Contains(segs[2], "="):
				addObject(runFolders, GCRun, path.Join(segs[:4]...), o)
				if len(segs) == 5 && segs[4] == ManifestFile {
					runManifests[path.Join(segs[:4]...)] = true
				}
			}
		}
	}
	referenced := map[string]bool{}
	for dir := range commitPoints {
		refs, err := referencedRuns(ctx, l, dir)
		if err != nil {
			return res, err
		}
		for r := range refs {
			referenced[r] = true
		}
	}

	for _, dir := range sortedKeys(runFolders) {
		f := runFolders[dir]
		switch {
		case referenced[dir]:
			res.Referenced++
			continue
		case !runManifests[dir] && stagedParts[dir]:
			res.InFlight++
			continue
		case !f.Newest.Before(cutoff):
			res.Young++
			continue
		}
		// Re-read the partition's commit point right before removing: a rollback or
		// publish may have pointed it at this run since the references were read.
		refs, err := referencedRuns(ctx, l, path.Dir(dir))
		if err != nil {
			return res, err
		}
		if refs[dir] {
			res.Referenced++
			continue
		}
		if !req.DryRun {
			if err := removeFolder(ctx, l, dir, path.Dir(dir)); err != nil {
				return res, err
			}
		}
		res.Removed = append(res.Removed, *f)
	}
	for _, dir := range sortedKeys(staging) {
		f := staging[dir]
		if !f.Newest.Before(cutoff) {
			res.Young++
			continue
		}
		if !req.DryRun {
			if err := removeFolder(ctx, l, dir, StagingRoot); err != nil {
				return res, err
			}
		}
		res.Removed = append(res.Removed, *f)
	}
	return res, nil
}

// referencedRuns reads a partition's commit point and returns the run folders
// (lake paths) its files and run id name; no commit point names none.
func referencedRuns(ctx context.Context, l Lake, partDir string) (map[string]bool, error) {
	m, _, err := ReadManifest(ctx, l, path.Join(partDir, ManifestFile))
	if errors.Is(err, ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gc: read commit point (nothing removed from %s): %w", partDir, err)
	}
	refs := map[string]bool{}
	if m.RunID != "" {
		refs[RunDir(partDir, m.RunID)] = true
	}
	for _, f := range m.Files {
		if d := path.Dir(f.Path); d != "." {
			refs[path.Join(partDir, strings.SplitN(d, "/", 2)[0])] = true
		}
	}
	return refs, nil
}

func addObject(m map[string]*GCFolder, kind, dir string, o ObjectInfo) {
	f := m[dir]
	if f == nil {
		f = &GCFolder{Kind: kind, Dir: dir}
		m[dir] = f
	}
	f.Objects++
	f.Bytes += o.Size
	if o.Updated.After(f.Newest) {
		f.Newest = o.Updated
	}
}

// removeFolder deletes every object under dir, manifests first so that an
// interrupted gc never leaves a manifest naming deleted files; on a local lake it
// then removes the emptied directories up to (not including) stop.
func removeFolder(ctx context.Context, l Lake, dir, stop string) error {
	objs, err := l.List(ctx, dir+"/")
	if err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	sort.SliceStable(objs, func(i, j int) bool {
		mi, mj := path.Base(objs[i].Path) == ManifestFile, path.Base(objs[j].Path) == ManifestFile
		return mi && !mj
	})
	for _, o := range objs {
		if err := l.Delete(ctx, o.Path); err != nil {
			return fmt.Errorf("gc: %w", err)
		}
	}
	if loc, ok := l.(*Local); ok {
		pruneEmptyDirs(loc, dir, stop)
	}
	return nil
}

// pruneEmptyDirs removes empty directories from dir upwards to stop (exclusive).
// Best effort: a directory something was just written into is not empty and stays.
func pruneEmptyDirs(l *Local, dir, stop string) {
	var dirs []string
	root := l.LocalPath(dir)
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- { // deepest first
		_ = os.Remove(dirs[i])
	}
	for d := path.Dir(dir); d != stop && d != "." && strings.HasPrefix(d, stop+"/"); d = path.Dir(d) {
		if os.Remove(l.LocalPath(d)) != nil {
			return
		}
	}
}

func sortedKeys(m map[string]*GCFolder) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
