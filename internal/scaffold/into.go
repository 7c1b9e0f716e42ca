package scaffold

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"github.com/shoplake/lakehouse/internal/dagsgen"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/spec"
)

// intoFile is an existing spec's pipeline.yaml that tables are added to.
type intoFile struct {
	dir, path, display string
	raw                []byte
	mode               fs.FileMode
	bronze, silver     *yaml.Node // the two tables: sequences
}

// openInto reads and lints an existing spec folder, and finds the two lists a
// table is added to.
func openInto(dir string) (*intoFile, *spec.Spec, error) {
	display := strings.TrimSuffix(dir, "/")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, nil, fail.Usage(fmt.Errorf("--into %s: not a spec folder", dir))
	}
	f := &intoFile{dir: dir, path: filepath.Join(dir, spec.PipelineFile), display: filepath.Join(display, spec.PipelineFile)}
	st, err := os.Stat(f.path)
	if err != nil {
		return nil, nil, fail.Usage(fmt.Errorf("--into %s: %w", dir, err))
	}
	f.mode = st.Mode().Perm()
	if f.raw, err = os.ReadFile(f.path); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f.display, err)
	}
	existing, err := lint(dir, display, nil)
	if err != nil {
		return nil, nil, fail.Usage(fmt.Errorf("--into %s: the spec has errors already; fix them first: %w", dir, err))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(f.raw, &doc); err != nil || len(doc.Content) == 0 {
		return nil, nil, fail.Usage(fmt.Errorf("%s: cannot parse: %v", f.display, err))
	}
	root := doc.Content[0]
	if f.bronze, err = f.list(root, "bronze"); err != nil {
		return nil, nil, err
	}
	if f.silver, err = f.list(root, "base_silver"); err != nil {
		return nil, nil, err
	}
	return f, existing, nil
}

// list finds <section>.tables, a non-empty block sequence.
func (f *intoFile) list(root *yaml.Node, section string) (*yaml.Node, error) {
	seq := mapValue(mapValue(root, section), "tables")
	if seq == nil || seq.Kind != yaml.SequenceNode || len(seq.Content) == 0 {
		return nil, fail.Usage(fmt.Errorf("%s has no %s.tables list to add to: scaffold without --into and paste the tables in", f.display, section))
	}
	if seq.Style&yaml.FlowStyle != 0 {
		return nil, fail.Usage(fmt.Errorf("%s:%d:%d: %s.tables is a flow list ([...]): write it as a block list (one \"- name:\" per table) to add to it", f.display, seq.Line, seq.Column, section))
	}
	return seq, nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// refuseExisting refuses a table the spec has already, in bronze or base_silver.
func (f *intoFile) refuseExisting(s *spec.Spec, name string) error {
	for _, seq := range []*yaml.Node{f.bronze, f.silver} {
		for _, item := range seq.Content {
			if n := mapValue(item, "name"); n != nil && n.Value == name {
				return fail.Usage(fmt.Errorf("%s:%d:%d: table %s exists already: choose another --table, or edit it by hand", f.display, n.Line, n.Column, name))
			}
		}
	}
	return nil
}

// insert adds the tables at the end of the bronze and base_silver lists, as text,
// so every other byte (comments, layout) stays as it was; the result must lint.
func (f *intoFile) insert(tables []*table) ([]byte, error) {
	nl := "\n"
	if bytes.Contains(f.raw, []byte("\r\n")) {
		nl = "\r\n"
	}
	lines := strings.SplitAfter(string(f.raw), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += nl
	}
	type edit struct {
		after int // insert after this many lines
		text  string
	}
	var edits []edit
	for _, which := range []struct {
		seq    *yaml.Node
		render func(*builder, int, *table)
	}{{f.bronze, renderBronze}, {f.silver, renderSilver}} {
		dash := dashColumn(lines, which.seq.Content[0])
		end := sequenceEnd(lines, which.seq, dash)
		var w builder
		if spaced(lines, which.seq, dash) {
			w.blank()
		}
		for i, t := range tables {
			if i > 0 && spaced(lines, which.seq, dash) {
				w.blank()
			}
			which.render(&w, dash, t)
		}
		text := w.b.String()
		if nl != "\n" {
			text = strings.ReplaceAll(text, "\n", nl)
		}
		edits = append(edits, edit{after: end, text: text})
	}
	// Later positions first, so earlier ones stay valid.
	if edits[0].after > edits[1].after {
		edits[0], edits[1] = edits[1], edits[0]
	}
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		rest := append([]string{e.text}, lines[e.after:]...)
		lines = append(lines[:e.after:e.after], rest...)
	}
	out := []byte(strings.Join(lines, ""))
	if _, err := lint(f.dir, strings.TrimSuffix(f.dir, "/"), out); err != nil {
		return nil, fmt.Errorf("the spec with the scaffolded table(s) does not lint, so %s was left as it was: %w", f.display, err)
	}
	return out, nil
}

// dashColumn is the 0-based column of the "-" that starts a sequence item.
func dashColumn(lines []string, item *yaml.Node) int {
	l := lines[item.Line-1]
	i := item.Column - 2
	for i >= 0 && i < len(l) && l[i] != '-' {
		i--
	}
	return max(i, 0)
}

// sequenceEnd is the number of lines up to the last line of a block sequence's
// last item: the sequence ends at the first later line indented less than its
// dashes, or as much without one. Comments and blank lines after the last item
// belong to what follows, unless a comment is indented inside the item.
func sequenceEnd(lines []string, seq *yaml.Node, dash int) int {
	last := seq.Content[len(seq.Content)-1]
	end := last.Line // 1-based line of the last item's start = lines up to it
	for i := last.Line; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r\n")
		body := strings.TrimLeft(l, " ")
		indent := len(l) - len(body)
		switch {
		case body == "":
			continue
		case strings.HasPrefix(body, "#"):
			if indent > dash {
				end = i + 1
			}
			continue
		case indent < dash, indent == dash && !strings.HasPrefix(body, "-"):
			return end
		}
		end = i + 1
	}
	return end
}

// spaced reports whether the list separates its items with a blank line.
func spaced(lines []string, seq *yaml.Node, dash int) bool {
	if len(seq.Content) < 2 {
		return false
	}
	prev := seq.Content[1].Line - 2 // 0-based line before the second item
	for prev >= 0 && strings.HasPrefix(strings.TrimLeft(lines[prev], " "), "#") {
		prev--
	}
	return prev >= 0 && strings.TrimSpace(lines[prev]) == ""
}

// write replaces pipeline.yaml atomically.
func (f *intoFile) write(out []byte) error {
	tmp, err := os.CreateTemp(f.dir, ".pipeline-*.yaml")
	if err != nil {
		return fmt.Errorf("write %s: %w", f.display, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", f.display, err)
	}
	if err := tmp.Chmod(f.mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", f.display, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.display, err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("write %s: %w", f.display, err)
	}
	return nil
}

// lint loads a spec folder as `worker specs lint` does, with pipeline.yaml
// replaced by override when it is not nil.
func lint(dir, display string, override []byte) (*spec.Spec, error) {
	var fsys fs.FS = os.DirFS(dir)
	if override != nil {
		fsys = overlay{FS: fsys, pipeline: override}
	}
	s, err := spec.Load(fsys, display)
	if err != nil {
		return nil, err
	}
	if _, err := dagsgen.Generate(s, dagsgen.Options{Flavor: dagsgen.FlavorLocal}); err != nil {
		return nil, err
	}
	return s, nil
}

// overlay is a folder with its pipeline.yaml replaced.
type overlay struct {
	fs.FS
	pipeline []byte
}

func (o overlay) Open(name string) (fs.File, error) {
	if name == spec.PipelineFile {
		return fstest.MapFS{name: {Data: o.pipeline, Mode: 0o644}}.Open(name)
	}
	return o.FS.Open(name)
}

func (o overlay) ReadFile(name string) ([]byte, error) {
	if name == spec.PipelineFile {
		return append([]byte(nil), o.pipeline...), nil
	}
	return fs.ReadFile(o.FS, name)
}
