package lake

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// maxCASAttempts bounds compare-and-swap retries against concurrent publishers.
const maxCASAttempts = 20

// CommitRequest names one staged partition to commit.
type CommitRequest struct {
	Layer, Table, Key, Value, RunID string
	SpecSHA256                      string
	Now                             time.Time
	// Step, when set, is called before each step of the protocol with its name;
	// crash-safety tests pause or kill the process there.
	Step func(name string)
}

// CommitResult says what a commit did.
type CommitResult struct {
	// Manifest is the partition manifest now in place (paths relative to the partition).
	Manifest *Manifest
	// ManifestPath is the commit point's lake path.
	ManifestPath string
	// AlreadyCommitted is true when the run was the partition's commit already.
	AlreadyCommitted bool
	// PreviousRunID is the run the partition pointed at before, if any.
	PreviousRunID string
	// Placed says how the staged files reached the run folder.
	Placed Placement
}

// Placement counts how commits placed staged files in their run folders.
type Placement struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// BytesNotCopied were placed without the worker reading and writing them: hard
	// links on a local lake, server-side copies on GCS.
	BytesNotCopied int64 `json:"bytes_not_copied"`
	// ByMethod counts files by how they were placed (a CopyMethod, or "present":
	// placed by an earlier attempt of the same publish).
	ByMethod map[string]int `json:"by_method,omitempty"`
}

// placedBefore is the ByMethod key of a file an earlier attempt already placed.
const placedBefore = "present"

func (p *Placement) add(method string, bytes int64, notCopied bool) {
	if p.ByMethod == nil {
		p.ByMethod = map[string]int{}
	}
	p.Files++
	p.Bytes += bytes
	p.ByMethod[method]++
	if notCopied {
		p.BytesNotCopied += bytes
	}
}

// Merge adds o's counts to p (a silver publish commits two layers).
func (p *Placement) Merge(o Placement) {
	for m, n := range o.ByMethod {
		if p.ByMethod == nil {
			p.ByMethod = map[string]int{}
		}
		p.ByMethod[m] += n
	}
	p.Files += o.Files
	p.Bytes += o.Bytes
	p.BytesNotCopied += o.BytesNotCopied
}

// Commit publishes a partition staged under _staging/<run>/ (DESIGN section 3):
// place the files in the immutable run folder (Lake.Copy: a hard link or a
// server-side copy where the store allows) and write its manifest there
// (create-only), swap the partition _MANIFEST.json by compare-and-swap (the commit
// point), then update the table pointer. Every step is safe to repeat, so a publish
// that crashed anywhere is completed by running it again.
func Commit(ctx context.Context, l Lake, req CommitRequest) (CommitResult, error) {
	step := req.Step
	if step == nil {
		step = func(string) {}
	}
	partDir := PartitionDir(req.Layer, req.Table, req.Key, req.Value)
	stageDir := StagingDir(req.RunID, req.Layer, req.Table, req.Key, req.Value)
	runDir := RunDir(partDir, req.RunID)
	res := CommitResult{ManifestPath: path.Join(partDir, ManifestFile)}

	step("read-staged")
	staged, _, err := ReadManifest(ctx, l, path.Join(stageDir, ManifestFile))
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			// Nothing staged: the run may have been committed and its staging cleaned.
			cur, _, cerr := ReadManifest(ctx, l, res.ManifestPath)
			if cerr == nil && cur.RunID == req.RunID {
				res.Manifest, res.AlreadyCommitted = cur, true
				return res, nil
			}
			return res, fmt.Errorf("nothing staged for run %s at %s: %w", req.RunID, stageDir, err)
		}
		return res, err
	}

	for _, f := range staged.Files {
		step("copy " + f.Path)
		dst := path.Join(runDir, f.Path)
		info, err := l.Copy(ctx, path.Join(stageDir, f.Path), dst, Precondition{DoesNotExist: true})
		method := string(info.CopiedBy)
		if errors.Is(err, ErrPrecondition) {
			// A repeated publish: the file must be the one staged.
			info, err = l.Stat(ctx, dst)
			method = placedBefore
		}
		if err != nil {
			return res, fmt.Errorf("copy %s into %s: %w", f.Path, runDir, err)
		}
		if !f.Matches(info) {
			return res, fmt.Errorf("committed file %s differs from the staged one (crc32c %s, staged %s)", dst, info.CRC32C, f.CRC32C)
		}
		res.Placed.add(method, info.Size, info.CopiedBy.NotCopied())
	}

	step("write-run-manifest")
	runManifest := *staged
	runManifest.Layer = req.Layer
	runManifest.RunID = req.RunID
	runManifest.CommittedAt = req.Now.UTC().Format(time.RFC3339Nano)
	runManifest.SpecSHA256 = req.SpecSHA256
	runManifestPath := path.Join(runDir, ManifestFile)
	if _, err := WriteBytes(ctx, l, runManifestPath, EncodeJSON(&runManifest), Precondition{DoesNotExist: true}); err != nil {
		if !errors.Is(err, ErrPrecondition) {
			return res, err
		}
		existing, _, rerr := ReadManifest(ctx, l, runManifestPath)
		if rerr != nil {
			return res, rerr
		}
		runManifest = *existing
	}

	commitPoint := commitPointOf(&runManifest, req.RunID)
	swap, err := swapCommitPoint(ctx, l, res.ManifestPath, req.RunID, "commit", step,
		func(*Manifest) *Manifest { return &commitPoint })
	res.Manifest, res.AlreadyCommitted, res.PreviousRunID = swap.Manifest, swap.Already, swap.PreviousRunID
	if err != nil {
		return res, err
	}

	step("update-pointer")
	if err := updatePointer(ctx, l, req, res.Manifest); err != nil {
		return res, err
	}
	step("done")
	return res, nil
}

// updatePointer moves <layer>/<table>/_latest.json by compare-and-swap. The run it
// records is read from the partition's commit point after the pointer, never taken
// from the caller: a publisher that lost the race for the commit point, or was
// overtaken after its swap, must not point the table at a run that is no longer
// committed. m is the manifest the caller committed, used only for messages.
func updatePointer(ctx context.Context, l Lake, req CommitRequest, m *Manifest) error {
	p := path.Join(TableDir(req.Layer, req.Table), LatestFile)
	partDir := PartitionDir(req.Layer, req.Table, req.Key, req.Value)
	part := map[string]string{req.Key: req.Value}
	for attempt := 0; attempt < maxCASAttempts; attempt++ {
		cur, gen, err := ReadPointer(ctx, l, p)
		pre := Precondition{GenerationMatch: gen}
		if errors.Is(err, ErrNotExist) {
			cur, pre = nil, Precondition{DoesNotExist: true}
		} else if err != nil {
			return err
		}
		committed, _, err := ReadManifest(ctx, l, path.Join(partDir, ManifestFile))
		if err != nil {
			return fmt.Errorf("update %s after committing run %s: %w", p, m.RunID, err)
		}
		next := Pointer{Version: ManifestVersion, Layer: req.Layer, Table: req.Table}
		if cur != nil {
			next = *cur
		}
		if cur == nil || cur.Partition[req.Key] <= req.Value {
			next.Partition = part
			next.RunID = committed.RunID
			next.Manifest = path.Join(partDir, ManifestFile)
		}
		if cur == nil || cur.LastCommit == nil || cur.LastCommit.CommittedAt <= committed.CommittedAt {
			next.LastCommit = &CommitRecord{Partition: part, RunID: committed.RunID, CommittedAt: committed.CommittedAt}
		}
		if cur != nil && samePointer(cur, &next) {
			return nil // the pointer shows the commit point as read after it
		}
		next.UpdatedAt = req.Now.UTC().Format(time.RFC3339Nano)
		if req.Step != nil {
			req.Step("write-pointer")
		}
		_, err = WriteBytes(ctx, l, p, EncodeJSON(&next), pre)
		if err != nil && !errors.Is(err, ErrPrecondition) {
			return err
		}
		// Written or not, read both again: a publisher that found the pointer up to
		// date returns without writing, so the generation alone cannot tell us that
		// the commit point moved after we read it. Only a pointer read before the
		// commit point it matches ends the loop.
	}
	return fmt.Errorf("update %s: gave up after %d concurrent updates", p, maxCASAttempts)
}

// samePointer compares pointers ignoring UpdatedAt.
func samePointer(a, b *Pointer) bool {
	x, y := *a, *b
	x.UpdatedAt, y.UpdatedAt = "", ""
	return string(EncodeJSON(&x)) == string(EncodeJSON(&y))
}

// ReadPointer reads a table pointer and its generation.
func ReadPointer(ctx context.Context, l Lake, p string) (*Pointer, int64, error) {
	b, gen, err := readGeneration(ctx, l, p)
	if err != nil {
		return nil, 0, err
	}
	ptr, err := ParsePointer(b)
	if err != nil {
		return nil, 0, fmt.Errorf("pointer %s: %w", p, err)
	}
	return ptr, gen, nil
}

// ParsePointer decodes and validates a table pointer's bytes.
func ParsePointer(b []byte) (*Pointer, error) {
	var ptr Pointer
	if err := decodeOne(b, &ptr); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := ptr.Validate(); err != nil {
		return nil, err
	}
	return &ptr, nil
}

// Validate checks what readers take from a pointer: its version, a partition
// whose key=value is one path segment, a valid run id, and a manifest path
// inside the lake. Pointers are read from the lake, so none of it is trusted.
func (p *Pointer) Validate() error {
	if p.Version != ManifestVersion {
		return fmt.Errorf("unsupported pointer version %d (want %d)", p.Version, ManifestVersion)
	}
	if err := checkPartitionMap(p.Partition); err != nil {
		return err
	}
	if p.RunID != "" {
		if err := CheckRunID(p.RunID); err != nil {
			return err
		}
	}
	if p.Manifest != "" {
		if err := CheckPath(p.Manifest); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
	}
	if c := p.LastCommit; c != nil {
		if err := checkPartitionMap(c.Partition); err != nil {
			return fmt.Errorf("last_commit: %w", err)
		}
		if c.RunID != "" {
			if err := CheckRunID(c.RunID); err != nil {
				return fmt.Errorf("last_commit: %w", err)
			}
		}
	}
	return nil
}

// checkPartitionMap admits no partition or one key=value that is one lake path segment.
func checkPartitionMap(part map[string]string) error {
	if len(part) > 1 {
		return fmt.Errorf("partition must have one key, has %d", len(part))
	}
	for k, v := range part {
		if k == "" || v == "" || strings.Contains(k, "=") || CheckPath(k+"="+v) != nil || strings.Contains(k+v, "/") {
			return fmt.Errorf("partition %q=%q is not one path segment", k, v)
		}
	}
	return nil
}

// Partition is a committed (or staged) partition resolved through its manifest.
type Partition struct {
	Manifest *Manifest
	// Dir is the folder the manifest's paths are relative to.
	Dir string
}

// FilePaths are the lake paths of the partition's files.
func (p *Partition) FilePaths() []string {
	out := make([]string, len(p.Manifest.Files))
	for i, f := range p.Manifest.Files {
		out[i] = path.Join(p.Dir, f.Path)
	}
	return out
}

// ReadCommitted resolves a committed partition through its commit point.
func ReadCommitted(ctx context.Context, l Lake, layer, table, key, value string) (*Partition, error) {
	dir := PartitionDir(layer, table, key, value)
	m, _, err := ReadManifest(ctx, l, path.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	return &Partition{Manifest: m, Dir: dir}, nil
}

// ReadStaged resolves a partition staged by a run.
func ReadStaged(ctx context.Context, l Lake, runID, layer, table, key, value string) (*Partition, error) {
	dir := StagingDir(runID, layer, table, key, value)
	m, _, err := ReadManifest(ctx, l, path.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	return &Partition{Manifest: m, Dir: dir}, nil
}

// readGeneration reads an object and the generation a compare-and-swap on it must
// match. It stats before reading: if the object changes in between, the
// generation is older than the content and a swap based on it fails safely.
func readGeneration(ctx context.Context, l Lake, p string) ([]byte, int64, error) {
	info, err := l.Stat(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	b, err := ReadAll(ctx, l, p)
	if err != nil {
		return nil, 0, err
	}
	return b, info.Generation, nil
}
