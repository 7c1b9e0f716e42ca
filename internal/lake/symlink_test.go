package lake_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
)

// TestLocalRefusesSymlinks: a symbolic link anywhere inside a local lake (a data
// file, a manifest, a partition or table folder) is refused by every access that
// could follow it, so a link to a file outside the lake never reaches a reader.
func TestLocalRefusesSymlinks(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.parquet")
	if err := os.WriteFile(secret, []byte("outside the lake"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		link string // lake path made a symlink to outside
		read string // lake path read through it
	}{
		{"data file", "bronze/orders/ingest_dt=2026-11-20/part-00000.parquet", "bronze/orders/ingest_dt=2026-11-20/part-00000.parquet"},
		{"manifest", "bronze/orders/ingest_dt=2026-11-20/_MANIFEST.json", "bronze/orders/ingest_dt=2026-11-20/_MANIFEST.json"},
		{"partition folder", "bronze/orders/ingest_dt=2026-11-20", "bronze/orders/ingest_dt=2026-11-20/secret.parquet"},
		{"table folder", "bronze/orders", "bronze/orders/secret.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			l, err := lake.NewLocal(root)
			if err != nil {
				t.Fatal(err)
			}
			target := secret
			if !strings.HasSuffix(tc.link, ".parquet") && !strings.HasSuffix(tc.link, ".json") {
				target = outside // a folder link
			}
			lp := filepath.Join(root, filepath.FromSlash(tc.link))
			if err := os.MkdirAll(filepath.Dir(lp), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, lp); err != nil {
				t.Fatal(err)
			}
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, lake.ErrSymlink) || !strings.Contains(err.Error(), tc.link) {
					t.Errorf("%s %s: %v, want a refusal naming %s", op, tc.read, err, tc.link)
				}
			}
			_, err = l.Open(ctx, tc.read)
			check("open", err)
			_, err = l.Stat(ctx, tc.read)
			check("stat", err)
			_, err = lake.Localize(ctx, l, []string{tc.read}, t.TempDir())
			check("localize", err)
			_, err = l.List(ctx, "bronze/")
			check("list", err)
			_, err = lake.WriteBytes(ctx, l, filepath.ToSlash(filepath.Join(filepath.Dir(tc.read), "new.json")), []byte("x"), lake.Precondition{})
			if tc.name != "data file" && tc.name != "manifest" {
				check("write", err)
			}
			if b, _ := os.ReadFile(secret); string(b) != "outside the lake" {
				t.Errorf("the file outside the lake changed: %q", b)
			}
		})
	}
}
