package lake_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
)

func TestChangedFiles(t *testing.T) {
	ctx := context.Background()
	l, err := lake.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := "_staging/r1/silver/orders/order_date=2026-11-20"
	var files []lake.File
	for _, name := range []string{"a.parquet", "b.parquet", "c.parquet"} {
		info, err := lake.WriteBytes(ctx, l, dir+"/"+name, []byte("bytes of "+name), lake.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, lake.File{Path: name, Bytes: info.Size, CRC32C: info.CRC32C})
	}
	files = append(files, lake.File{Path: "gone.parquet", Bytes: 1, CRC32C: "AAAAAA=="})
	// b changes after it was listed: same size, other checksum.
	if _, err := lake.WriteBytes(ctx, l, dir+"/b.parquet", []byte("bytes of B.parquet"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	p := &lake.Partition{Manifest: &lake.Manifest{Files: files}, Dir: dir}
	bad, err := lake.ChangedFiles(ctx, l, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{dir + "/b.parquet", dir + "/gone.parquet"}; !reflect.DeepEqual(bad, want) {
		t.Errorf("ChangedFiles = %v, want %v", bad, want)
	}
	states, err := lake.StatFiles(ctx, l, dir, files)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ intact, missing bool }{{true, false}, {false, false}, {true, false}, {false, true}} {
		if got := states[i]; got.Intact() != want.intact || got.Missing != want.missing {
			t.Errorf("%s: intact %v missing %v, want %v %v", got.Path, got.Intact(), got.Missing, want.intact, want.missing)
		}
	}
}
