package spec

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pos is a 1-based line and column in the spec's YAML file.
type Pos struct {
	Line int
	Col  int
}

// positions records where each decoded value came from. Paths name values the way
// a reader would: "base_silver.tables[2].columns[0].name", "deploy.schedules.gold".
type positions struct {
	val map[string]Pos // the value's node
	key map[string]Pos // the mapping key that introduced the value
	// null marks values the YAML gave as null (~, null, NULL), which decode as
	// zero values, so a list of strings can tell [NULL] from [""].
	null map[string]bool
}

// Pos returns the YAML position of the value at path (see positions), or of its
// nearest recorded ancestor when the value was absent, so a message about a missing
// field points at the mapping that lacks it. The root path is "".
func (s *Spec) Pos(path string) Pos {
	for {
		if p, ok := s.pos.val[path]; ok {
			return p
		}
		if path == "" {
			return Pos{}
		}
		path = parentPath(path)
	}
}

// KeyPos is like Pos but prefers the position of the mapping key that introduced
// the value ("name" in "name: x"), which is where a message about a key belongs.
func (s *Spec) KeyPos(path string) Pos {
	if p, ok := s.pos.key[path]; ok {
		return p
	}
	return s.Pos(path)
}

// ErrorAt builds a spec error positioned at the value at path, for validation done
// outside this package (e.g. bronze schema checks naming a spec column).
func (s *Spec) ErrorAt(path, format string, args ...any) *Error {
	p := s.Pos(path)
	return &Error{File: s.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}

func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return parent + "[" + strconv.Itoa(i) + "]" }

// lastSegment names a value in a message: "primary_key", "columns[2]", "spec".
func lastSegment(p string) string {
	if p == "" {
		return "spec"
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// decoder walks a yaml.Node tree into Go values by their yaml tags, collecting every
// problem instead of stopping at the first, and recording positions.
type decoder struct {
	file string
	pos  positions
	errs Errors
	// active holds the alias targets being decoded, to reject an alias inside
	// itself; budget bounds the nodes decoded, as aliases can expand exponentially.
	active map[*yaml.Node]bool
	budget int
}

// maxNodes bounds the decoded size of a spec after alias expansion.
const maxNodes = 1 << 20

func newDecoder(file string) *decoder {
	return &decoder{
		file:   file,
		pos:    positions{val: map[string]Pos{}, key: map[string]Pos{}, null: map[string]bool{}},
		active: map[*yaml.Node]bool{},
		budget: maxNodes,
	}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) kindError(n *yaml.Node, path, want string) {
	d.errorf(n, "%s: expected %s, got %s", lastSegment(path), want, describe(n))
}

// describe says what a node is, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// resolve follows aliases (bounded, so a pathological document cannot loop).
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// field is one yaml-tagged struct field.
type field struct {
	name     string
	index    int
	required bool
	// unsupported is the advice given when a string field gets a list or a mapping.
	unsupported string
	// scalar: a plain value given where the struct is expected sets this field
	// (depends_on: [silver.orders] is [{table: silver.orders}]).
	scalar bool
}

// structFields lists the decodable fields of struct type t in declaration order.
func structFields(t reflect.Type) []field {
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs = append(fs, field{name: name, index: i, required: hasTagOption(f.Tag.Get("spec"), "required"),
			unsupported: f.Tag.Get("unsupported"), scalar: hasTagOption(f.Tag.Get("spec"), "scalar")})
	}
	return fs
}

// scalarField is the field a plain value sets in place of the whole struct, if any.
func scalarField(fs []field) (field, bool) {
	for _, f := range fs {
		if f.scalar {
			return f, true
		}
	}
	return field{}, false
}

func hasTagOption(tag, opt string) bool {
	for _, o := range strings.Split(tag, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// decode stores node n into v (addressable), recording positions under path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		t := resolve(n)
		if d.active[t] {
			d.errorf(n, "%s: alias %q refers to a value that contains it", lastSegment(path), n.Value)
			return
		}
		n = t
	}
	if n.Anchor != "" {
		d.active[n] = true
		defer delete(d.active, n)
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.errorf(n, "spec is too large after expanding aliases (more than %d values)", maxNodes)
		}
		return
	}
	d.pos.val[path] = Pos{n.Line, n.Column}
	if isNull(n) && v.Kind() != reflect.Struct {
		d.pos.null[path] = true
		v.Set(reflect.Zero(v.Type())) // absent: nil pointer, nil slice, zero value
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		d.decode(n, e.Elem(), path)
		v.Set(e)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.kindError(n, path, "a list")
			return
		}
		// Allocate once, then decode in place: element addresses stay put, and an
		// empty list stays distinguishable (non-nil) from an absent one.
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		v.Set(s)
		for i, c := range n.Content {
			d.decode(c, v.Index(i), indexPath(path, i))
		}
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
			// Say what is not supported rather than only what was expected.
			d.errorf(n, "%s: %s is unsupported here: expected a string", lastSegment(path), describe(n))
			return
		}
		if n.Kind != yaml.ScalarNode {
			d.kindError(n, path, "a string")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.kindError(n, path, "true or false")
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.kindError(n, path, "true or false")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p := reflect.New(v.Type())
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(p.Interface()) != nil {
			d.kindError(n, path, "an integer")
			return
		}
		i := p.Elem().Int()
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		tag := n.ShortTag()
		var f float64
		if n.Kind != yaml.ScalarNode || (tag != "!!float" && tag != "!!int") || n.Decode(&f) != nil {
			d.kindError(n, path, "a number")
			return
		}
		v.SetFloat(f)
	default:
		// A spec type the walker does not know is a bug here, not in the spec.
		panic(fmt.Sprintf("spec: cannot decode into %s", v.Type()))
	}
}

// entry is one key/value pair of a mapping, with merge keys (<<) expanded.
type entry struct {
	key, val *yaml.Node
	merged   bool
}

// entries lists a mapping's pairs: explicit ones, then merged ones whose keys are
// not given explicitly (earlier merges win, as YAML specifies).
func entries(n *yaml.Node) []entry {
	return mergedEntries(n, map[*yaml.Node]bool{n: true})
}

// mergedEntries expands n's merges, each mapping at most once (a later merge of
// the same mapping adds nothing), so merge loops and fan-outs stay linear.
func mergedEntries(n *yaml.Node, visited map[*yaml.Node]bool) []entry {
	var out, merged []entry
	explicit := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			v = resolve(v)
			var srcs []*yaml.Node
			if v.Kind == yaml.SequenceNode {
				for _, c := range v.Content {
					srcs = append(srcs, resolve(c))
				}
			} else {
				srcs = []*yaml.Node{v}
			}
			for _, src := range srcs {
				if src.Kind == yaml.MappingNode && !visited[src] {
					visited[src] = true
					for _, e := range mergedEntries(src, visited) {
						merged = append(merged, entry{e.key, e.val, true})
					}
				}
			}
			continue
		}
		explicit[k.Value] = true
		out = append(out, entry{key: k, val: v})
	}
	seen := map[string]bool{}
	for _, e := range merged {
		if !explicit[e.key.Value] && !seen[e.key.Value] {
			seen[e.key.Value] = true
			out = append(out, e)
		}
	}
	return out
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	fields := structFields(v.Type())
	if n.Kind == yaml.ScalarNode {
		if f, ok := scalarField(fields); ok {
			p := joinPath(path, f.name)
			d.pos.val[p] = Pos{n.Line, n.Column}
			v.Field(f.index).SetString(n.Value)
			return
		}
	}
	if n.Kind != yaml.MappingNode {
		d.kindError(n, path, "a mapping")
		return
	}
	byName := map[string]field{}
	names := make([]string, len(fields))
	for i, f := range fields {
		byName[f.name] = f
		names[i] = f.name
	}
	seen := map[string]*yaml.Node{}
	suggested := map[string]bool{} // a misspelt key already points at these fields
	for _, e := range entries(n) {
		k := resolve(e.key)
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "expected a field name, got %s", describe(k))
			continue
		}
		f, ok := byName[k.Value]
		if !ok {
			c := closest(k.Value, names)
			suggested[c] = true
			d.errorf(k, "unknown field %q%s", k.Value, didYouMean(k.Value, names))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, "duplicate field %q (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		p := joinPath(path, f.name)
		d.pos.key[p] = Pos{k.Line, k.Column}
		if val := resolve(e.val); f.unsupported != "" && (val.Kind == yaml.SequenceNode || val.Kind == yaml.MappingNode) {
			d.pos.val[p] = Pos{val.Line, val.Column}
			d.errorf(val, "%s: %s is unsupported here: %s", f.name, describe(val), f.unsupported)
			continue
		}
		d.decode(e.val, v.Field(f.index), p)
		if val := resolve(e.val); f.required && (isNull(val) || (val.Kind == yaml.ScalarNode && strings.TrimSpace(val.Value) == "")) {
			d.errorf(val, "%s must not be empty", f.name)
		}
	}
	for _, f := range fields {
		if f.required && seen[f.name] == nil && !suggested[f.name] {
			d.errorf(n, "missing required field %q", f.name)
		}
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.kindError(n, path, "a mapping")
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		panic(fmt.Sprintf("spec: cannot decode into %s", v.Type()))
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]*yaml.Node{}
	for _, e := range entries(n) {
		k := resolve(e.key)
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "expected a key, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, "duplicate key %q (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		p := joinPath(path, k.Value)
		d.pos.key[p] = Pos{k.Line, k.Column}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(e.val, elem, p)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

// didYouMean returns ` (did you mean "x"?)` for the closest candidate within a few
// edits of s, or "".
func didYouMean(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

func closest(s string, candidates []string) string {
	best, bestD := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		dist := levenshtein(ls, strings.ToLower(c))
		if dist == 0 && s != c {
			return c // differs only in case
		}
		limit := max(2, len(c)/3)
		if dist <= limit && (bestD < 0 || dist < bestD) {
			best, bestD = c, dist
		}
	}
	if best == s {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
