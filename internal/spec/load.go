package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// PipelineFile is the name of the spec's YAML file inside its folder.
const PipelineFile = "pipeline.yaml"

// Error is one problem in a spec, with its position.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in a spec; Load returns it when the spec is invalid.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads pipeline.yaml and the SQL files it names from fsys (the spec folder),
// validates them, and returns the spec. display is the folder as shown in messages
// (e.g. "specs/shop"). An invalid spec returns Errors with every problem found.
func Load(fsys fs.FS, display string) (*Spec, error) {
	file := path.Join(display, PipelineFile)
	raw, err := fs.ReadFile(fsys, PipelineFile)
	if err != nil {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("cannot read spec: %v", err)}}
	}
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, Errors{{File: file, Msg: err.Error()}}
	}
	s.Dir, s.File = display, file
	s.SQL = map[string]string{}
	files := map[string][]byte{PipelineFile: raw}
	for _, p := range s.sqlPaths() {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, Errors{{File: file, Msg: fmt.Sprintf("cannot read SQL file %s: %v", p, err)}}
		}
		s.SQL[p] = string(b)
		files[p] = b
	}
	s.SHA256 = hashFiles(files)
	return &s, nil
}

// sqlPaths lists every SQL file the spec names.
func (s *Spec) sqlPaths() []string {
	var ps []string
	for _, t := range s.Enriched.Transforms {
		ps = append(ps, t.SQL)
	}
	for _, m := range s.Gold.Facts {
		ps = append(ps, m.SQL)
	}
	for _, m := range s.Gold.Dims {
		ps = append(ps, m.SQL)
	}
	return ps
}

// hashFiles is sha256 over the files sorted by path: each path, a NUL, its content, a NUL.
func hashFiles(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(files[n])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
