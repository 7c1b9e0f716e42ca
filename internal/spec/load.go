package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
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

// sortErrors orders errors by file, line, column and message, dropping duplicates.
func sortErrors(es Errors) Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Msg < b.Msg
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 && *e == *es[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Load reads pipeline.yaml and the SQL files it names from fsys (the spec folder),
// validates them, and returns the spec. display is the folder as shown in messages
// (e.g. "specs/shop"). An invalid spec returns Errors with every problem found,
// sorted by position.
func Load(fsys fs.FS, display string) (*Spec, error) {
	file := path.Join(display, PipelineFile)
	raw, err := fs.ReadFile(fsys, PipelineFile)
	if err != nil {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("cannot read spec: %v", err)}}
	}
	root, perr := parseYAML(raw, file)
	if perr != nil {
		return nil, Errors{perr}
	}
	d := newDecoder(file)
	s := &Spec{}
	d.decode(root, reflect.ValueOf(s).Elem(), "")
	s.Dir, s.File, s.pos = display, file, d.pos
	s.SQL = map[string]string{}

	v := &validator{s: s, fsys: fsys, files: map[string][]byte{PipelineFile: raw}}
	v.validate()
	if errs := append(d.errs, v.errs...); len(errs) > 0 {
		return nil, sortErrors(errs)
	}
	s.applyDefaults()
	s.SHA256 = hashFiles(v.files)
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses exactly one YAML document into its root node.
func parseYAML(raw []byte, file string) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "spec is empty: start with \"pipeline: <name>\""}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Col: extra.Column, Msg: "a spec holds one YAML document; remove this \"---\" and what follows"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, &Error{File: file, Msg: "spec is empty: start with \"pipeline: <name>\""}
		}
		root = root.Content[0]
	}
	return root, nil
}

func yamlError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Col: 1, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// applyDefaults fills in the partition keys the spec leaves out, so readers of the
// fields see what the methods (BronzeKey, Key) return.
func (s *Spec) applyDefaults() {
	if s.Bronze.PartitionKey == "" {
		s.Bronze.PartitionKey = DefaultBronzePartitionKey
	}
	if s.Bronze.NullValues == nil {
		s.Bronze.NullValues = DefaultNullValues
	}
	for i := range s.Bronze.Tables {
		if s.Bronze.Tables[i].NullValues == nil {
			s.Bronze.Tables[i].NullValues = s.Bronze.NullValues
		}
	}
	for i := range s.BaseSilver.Tables {
		if s.BaseSilver.Tables[i].PartitionKey == "" {
			s.BaseSilver.Tables[i].PartitionKey = DefaultPartitionKey
		}
	}
	for i := range s.Enriched.Transforms {
		if s.Enriched.Transforms[i].PartitionKey == "" {
			s.Enriched.Transforms[i].PartitionKey = DefaultPartitionKey
		}
	}
}

// sqlPaths lists every SQL file the spec names, sorted, without duplicates.
func (s *Spec) sqlPaths() []string {
	set := map[string]bool{}
	for _, t := range s.Enriched.Transforms {
		set[t.SQL] = true
	}
	for _, m := range s.Marts() {
		set[m.SQL] = true
	}
	ps := make([]string, 0, len(set))
	for p := range set {
		ps = append(ps, p)
	}
	sort.Strings(ps)
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
