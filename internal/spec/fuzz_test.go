package spec

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"
)

// sqlSets are the SQL files a fuzzed pipeline.yaml is loaded with: the unit
// tests' base spec's, and each spec folder's of the repository, so their
// pipeline.yaml seeds load (and mutate) against their own SQL.
func sqlSets(f testing.TB) []fstest.MapFS {
	base := fstest.MapFS{"a.sql": {Data: []byte("SELECT 1")}}
	for p, s := range baseSQL {
		base[p] = &fstest.MapFile{Data: []byte(s)}
	}
	sets := []fstest.MapFS{base}
	for _, dir := range repoSpecs {
		set := fstest.MapFS{}
		root := path.Join("..", "..", "specs", dir)
		err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".sql") {
				b, err := os.ReadFile(path.Join(root, p))
				if err != nil {
					return err
				}
				set[p] = &fstest.MapFile{Data: b}
			}
			return nil
		})
		if err != nil {
			f.Fatal(err)
		}
		sets = append(sets, set)
	}
	return sets
}

// repoSpecs are the spec folders under specs/, in the order of sqlSets (from 1).
var repoSpecs = []string{"shop", "jaffle_shop", "nycflights13"}

// FuzzLoad: no pipeline.yaml makes Load panic; an invalid spec always comes back
// as positioned Errors (the CLI's exit 2), each naming a file of the spec and a
// cause on one line; a valid one builds its task graph, and loading it again
// gives the same spec hash and graph.
func FuzzLoad(f *testing.F) {
	sets := sqlSets(f)
	f.Add(uint8(0), baseYAML)
	f.Add(uint8(0), "pipeline: p\nbase_silver: {tables: [~, {name: a, foreign_keys: [{references: a.b}]}]}\n")
	f.Add(uint8(0), "pipeline: p\nenriched: {transforms: [{name: x, sql: a.sql, depends_on: [enriched.x, enriched.y]}, {name: y, sql: a.sql, depends_on: [enriched.x]}]}\n")
	f.Add(uint8(0), "a: &a [*a]\n")
	for i, dir := range repoSpecs {
		b, err := os.ReadFile(path.Join("..", "..", "specs", dir, PipelineFile))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i+1), string(b))
	}
	f.Fuzz(func(t *testing.T, set uint8, y string) {
		fsys := fstest.MapFS{PipelineFile: {Data: []byte(y)}}
		for p, file := range sets[int(set)%len(sets)] {
			fsys[p] = file
		}
		s, err := Load(fsys, "f")
		if err == nil {
			if s == nil {
				t.Fatal("nil spec without error")
			}
			text := s.Graph().Text()
			again, err := Load(fsys, "f")
			if err != nil {
				t.Fatalf("the same spec loads once and then fails: %v", err)
			}
			if again.SHA256 != s.SHA256 || again.Graph().Text() != text {
				t.Fatal("loading the same spec twice gives another hash or graph")
			}
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error %T %v is not Errors", err, err)
		}
		for _, e := range es {
			if !strings.HasPrefix(e.File, "f/") || e.Msg == "" || e.Line < 0 || e.Col < 0 || (e.Line > 0) != (e.Col > 0) {
				t.Fatalf("error %q: want f/<file>:line:col: cause", e.Error())
			}
			if strings.Contains(e.Error(), "\n") {
				t.Fatalf("error %q spans lines", e.Error())
			}
		}
	})
}
