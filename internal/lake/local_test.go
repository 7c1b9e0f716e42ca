package lake_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/laketest"
)

func TestLocalConformance(t *testing.T) {
	laketest.Run(t, func(t *testing.T) lake.Lake {
		l, err := lake.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

func TestParseDateAndRunIDs(t *testing.T) {
	for _, bad := range []string{"../x", "2026-13-45", "2026-02-30", "20261120", ""} {
		if _, err := lake.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	if _, err := lake.ParseDate("2026-11-20"); err != nil {
		t.Error(err)
	}
	if got := lake.SafeRunID("scheduled__2026-11-20T03:00:00+00:00"); got != "scheduled__2026-11-20T03_00_00_00_00" {
		t.Errorf("SafeRunID = %s", got)
	}
	if lake.CheckRunID("../x") == nil || lake.CheckRunID("a b") == nil || lake.CheckRunID("r-1.2_x") != nil {
		t.Error("CheckRunID misjudges")
	}
}

// TestLocalCopyLinksOrStreams: a create-only copy is a hard link (the two names are
// one file, the source still readable); where the file system refuses the link it
// streams the bytes instead, with the same guarantees: create-only, the source's
// size and crc32c, and a commit that verifies what it placed.
func TestLocalCopyLinksOrStreams(t *testing.T) {
	refuse := func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EXDEV}
	}
	for _, tc := range []struct {
		name   string
		link   func(oldname, newname string) error
		method lake.CopyMethod
		shared bool
	}{
		{"link", os.Link, lake.CopyLinked, true},
		{"cross-device", refuse, lake.CopyStreamed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			l, err := lake.NewLocalLinking(t.TempDir(), tc.link)
			if err != nil {
				t.Fatal(err)
			}
			src, err := lake.WriteBytes(ctx, l, "_staging/r/x/part-0.parquet", []byte("rows\n"), lake.Precondition{})
			if err != nil {
				t.Fatal(err)
			}
			cp, err := l.Copy(ctx, "_staging/r/x/part-0.parquet", "x/run=r/part-0.parquet", lake.Precondition{DoesNotExist: true})
			if err != nil {
				t.Fatal(err)
			}
			if cp.CopiedBy != tc.method || cp.Size != src.Size || cp.CRC32C != src.CRC32C {
				t.Errorf("copy = %+v, want %s with the source's size and crc32c %s", cp, tc.method, src.CRC32C)
			}
			a, errA := os.Stat(l.LocalPath("_staging/r/x/part-0.parquet"))
			b, errB := os.Stat(l.LocalPath("x/run=r/part-0.parquet"))
			if errA != nil || errB != nil {
				t.Fatalf("stat after copy: %v %v", errA, errB)
			}
			if os.SameFile(a, b) != tc.shared {
				t.Errorf("source and copy are one file: %v, want %v", os.SameFile(a, b), tc.shared)
			}
			if got, _ := lake.ReadAll(ctx, l, "_staging/r/x/part-0.parquet"); string(got) != "rows\n" {
				t.Errorf("source after copy = %q", got)
			}

			// Create-only either way: a second copy is refused and leaves the first.
			if _, err := lake.WriteBytes(ctx, l, "_staging/r/x/other.parquet", []byte("other\n"), lake.Precondition{}); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Copy(ctx, "_staging/r/x/other.parquet", "x/run=r/part-0.parquet", lake.Precondition{DoesNotExist: true}); !errors.Is(err, lake.ErrPrecondition) {
				t.Errorf("create-only copy onto an object: %v, want ErrPrecondition", err)
			}
			if got, _ := lake.ReadAll(ctx, l, "x/run=r/part-0.parquet"); string(got) != "rows\n" {
				t.Errorf("refused copy changed the destination: %q", got)
			}
			if _, err := l.Copy(ctx, "_staging/r/x/missing.parquet", "x/run=r/missing.parquet", lake.Precondition{DoesNotExist: true}); !errors.Is(err, lake.ErrNotExist) {
				t.Errorf("copy of a missing object: %v, want ErrNotExist", err)
			}
			// A replaced source (Write renames a new file in) leaves a linked copy as it was.
			if _, err := lake.WriteBytes(ctx, l, "_staging/r/x/part-0.parquet", []byte("changed\n"), lake.Precondition{}); err != nil {
				t.Fatal(err)
			}
			if got, _ := lake.ReadAll(ctx, l, "x/run=r/part-0.parquet"); string(got) != "rows\n" {
				t.Errorf("copy after the source was replaced = %q", got)
			}
		})
	}
}

// TestLocalCommitReportsPlacement: publish's commit counts the bytes it placed
// without copying (hard links), and the ones it had to stream where links fail.
func TestLocalCommitReportsPlacement(t *testing.T) {
	refuse := func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	for _, tc := range []struct {
		name      string
		link      func(oldname, newname string) error
		method    string
		notCopied int64
	}{
		{"link", os.Link, "link", 9},
		{"no hard links", refuse, "streamed", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			l, err := lake.NewLocalLinking(t.TempDir(), tc.link)
			if err != nil {
				t.Fatal(err)
			}
			laketest.Stage(t, l, "silver", "orders", "ingestion_dt", "2026-11-20", "r1",
				map[string]string{"part-0.parquet": "a\nb\n", "part-1.parquet": "c\nd\ne"})
			res, err := lake.Commit(ctx, l, lake.CommitRequest{Layer: "silver", Table: "orders", Key: "ingestion_dt",
				Value: "2026-11-20", RunID: "r1", Now: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if pl := res.Placed; pl.Files != 2 || pl.Bytes != 9 || pl.BytesNotCopied != tc.notCopied || pl.ByMethod[tc.method] != 2 {
				t.Errorf("placed %+v, want 2 files of 9 bytes by %s, %d not copied", pl, tc.method, tc.notCopied)
			}
			if bad, err := lake.ChangedFiles(ctx, l, &lake.Partition{Manifest: res.Manifest, Dir: "silver/orders/ingestion_dt=2026-11-20"}); err != nil || len(bad) != 0 {
				t.Errorf("committed files that differ from the manifest: %v %v", bad, err)
			}
		})
	}
}
