package lake

import (
	"context"
	"errors"
	"hash/crc32"
	"net/http"
	"testing"

	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/lake/gcstest"
)

// TestGCSUploadIsVerified: an upload whose data does not match the CRC32C sent
// with it is refused by the store and leaves no object.
func TestGCSUploadIsVerified(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	g, err := NewGCS(ctx, bucket, "verify", option.WithEndpoint("http://"+endpoint+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	data := []byte("the bytes we meant")
	wrong := crc32.Checksum([]byte("other bytes"), castagnoli)
	_, err = g.put(ctx, "x.parquet", data, wrong, Precondition{})
	if !isHTTP(err, http.StatusBadRequest) {
		t.Fatalf("upload with a wrong CRC32C: %v, want the store's 400", err)
	}
	if _, err := g.Stat(ctx, "x.parquet"); !errors.Is(err, ErrNotExist) {
		t.Errorf("refused upload left an object: %v", err)
	}
	info, err := g.put(ctx, "x.parquet", data, crc32.Checksum(data, castagnoli), Precondition{})
	if err != nil || info.CRC32C != CRC32C(data) {
		t.Errorf("upload with the right CRC32C: %+v %v", info, err)
	}
}
