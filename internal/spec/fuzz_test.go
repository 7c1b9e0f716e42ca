package spec

import (
	"errors"
	"testing"
	"testing/fstest"
)

// FuzzLoad checks that no YAML makes Load panic, and that an invalid spec always
// comes back as positioned Errors.
func FuzzLoad(f *testing.F) {
	f.Add(baseYAML)
	f.Add("pipeline: p\nbase_silver: {tables: [~, {name: a, foreign_keys: [{references: a.b}]}]}\n")
	f.Add("pipeline: p\nenriched: {transforms: [{name: x, sql: a.sql, depends_on: [enriched.x, enriched.y]}, {name: y, sql: a.sql, depends_on: [enriched.x]}]}\n")
	f.Add("a: &a [*a]\n")
	f.Fuzz(func(t *testing.T, y string) {
		fsys := fstest.MapFS{PipelineFile: {Data: []byte(y)}}
		for p, s := range baseSQL {
			fsys[p] = &fstest.MapFile{Data: []byte(s)}
		}
		fsys["a.sql"] = &fstest.MapFile{Data: []byte("SELECT 1")}
		s, err := Load(fsys, "f")
		if err == nil {
			if s == nil {
				t.Fatal("nil spec without error")
			}
			s.Graph().Text()
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error %T %v is not Errors", err, err)
		}
	})
}
