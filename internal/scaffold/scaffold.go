// Package scaffold writes the spec of a table from its files (`worker specs
// scaffold`): the bronze columns as delivered, a base_silver entry with the types,
// keys, null tokens and foreign keys DuckDB finds in the data, and comments where
// it had to guess. It prints a complete pipeline.yaml, or adds the table to an
// existing spec folder, textually, leaving every other byte of it as it was.
package scaffold

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/inputfile"
	"github.com/shoplake/lakehouse/internal/spec"
)

// DefaultPipeline names the pipeline of a scaffolded spec unless Options.Pipeline says otherwise.
const DefaultPipeline = "my_pipeline"

// Options say which files to scaffold which tables from.
type Options struct {
	// Tables are the table names: one (every file is a part of it, as with bronze
	// import) or one per file, in the files' order.
	Tables []string
	// Files are local .csv, .parquet, .ndjson/.jsonl or .json files (CSV and JSON
	// may end in .gz or .zst), as `worker bronze import` reads them.
	Files []string
	// Pipeline names the pipeline of a new spec (default DefaultPipeline).
	Pipeline string
	// Into is a spec folder to add the tables to; "" prints a new spec instead.
	Into string
	// Duck sizes the DuckDB session that reads the files.
	Duck duck.Options
}

// Result is what Run produced.
type Result struct {
	// YAML is the new spec, or (Into) the edited pipeline.yaml.
	YAML []byte
	// File is the pipeline.yaml written (Into only).
	File string
	// Tables are the tables scaffolded, in order.
	Tables []string
}

// scaffolder holds one run's DuckDB session.
type scaffolder struct {
	s *duck.Session
	// keywords are DuckDB's reserved words, quoted when a name is one in an expr.
	keywords map[string]bool
}

// Run scaffolds the tables: with o.Into it edits that folder's pipeline.yaml in
// place (after checking the result lints), otherwise it returns a new spec.
func Run(ctx context.Context, o Options) (Result, error) {
	groups, err := groupFiles(o)
	if err != nil {
		return Result{}, err
	}
	var existing *spec.Spec
	var into *intoFile
	if o.Into != "" {
		if o.Pipeline != "" {
			return Result{}, fail.Usage(errors.New("--pipeline names a new spec: it has no effect with --into"))
		}
		into, existing, err = openInto(o.Into)
		if err != nil {
			return Result{}, err
		}
		for _, g := range groups {
			if err := into.refuseExisting(existing, g.name); err != nil {
				return Result{}, err
			}
		}
	}
	tables, err := infer(ctx, o.Duck, groups, existing)
	if err != nil {
		return Result{}, err
	}
	res := Result{}
	for _, t := range tables {
		res.Tables = append(res.Tables, t.name)
	}
	if into == nil {
		pipeline := o.Pipeline
		if pipeline == "" {
			pipeline = DefaultPipeline
		}
		if !spec.IsIdent(pipeline) {
			return Result{}, fail.Usage(fmt.Errorf("--pipeline %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", pipeline))
		}
		res.YAML = renderSpec(pipeline, tables)
		return res, nil
	}
	out, err := into.insert(tables)
	if err != nil {
		return Result{}, err
	}
	if err := into.write(out); err != nil {
		return Result{}, err
	}
	res.YAML, res.File = out, into.display
	return res, nil
}

// groupFiles pairs table names with their files.
func groupFiles(o Options) ([]*table, error) {
	if len(o.Tables) == 0 {
		return nil, fail.Usage(errors.New("name the table with --table"))
	}
	if len(o.Files) == 0 {
		return nil, fail.Usage(errors.New("no input files given"))
	}
	if len(o.Tables) > 1 && len(o.Tables) != len(o.Files) {
		return nil, fail.Usage(fmt.Errorf("%d --table flags for %d files: give one --table (every file is part of it) or one per file, in order", len(o.Tables), len(o.Files)))
	}
	var out []*table
	byName := map[string]*table{}
	for i, f := range o.Files {
		name := o.Tables[0]
		if len(o.Tables) > 1 {
			name = o.Tables[i]
		}
		if !spec.IsIdent(name) {
			return nil, fail.Usage(fmt.Errorf("--table %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most %d characters)", name, spec.MaxIdentLen))
		}
		in, err := openInput(f)
		if err != nil {
			return nil, err
		}
		t := byName[name]
		if t == nil {
			t = &table{name: name}
			byName[name] = t
			out = append(out, t)
		}
		t.inputs = append(t.inputs, in)
	}
	return out, nil
}

// infer reads every table's files and works out its spec.
func infer(ctx context.Context, o duck.Options, tables []*table, existing *spec.Spec) ([]*table, error) {
	s, err := duck.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sc := &scaffolder{s: s, keywords: map[string]bool{}}
	kws, err := sc.strings(ctx, "SELECT lower(keyword_name) FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'")
	if err != nil {
		return nil, fmt.Errorf("list duckdb keywords: %w", err)
	}
	for _, k := range kws {
		sc.keywords[k] = true
	}
	for i, t := range tables {
		steps := []func(context.Context, *table) error{sc.countTokens, sc.detectNullTokens, sc.inferColumns, sc.chooseKey}
		if err := sc.load(ctx, t, i); err != nil {
			return nil, err
		}
		if len(t.columns) == 0 {
			return nil, fail.Data(fmt.Errorf("table %s: %s has no columns", t.name, t.inputs[0].name))
		}
		for _, step := range steps {
			if err := step(ctx, t); err != nil {
				return nil, err
			}
		}
	}
	var parents []parentKey
	for _, t := range tables {
		if len(t.pk) == 1 && t.pkNote == "" {
			parents = append(parents, parentKey{table: t.name, column: t.pk[0], typ: t.column(t.pk[0]).silverType, t: t})
		}
	}
	if existing != nil {
		parents = append(parents, specParents(existing)...)
	}
	for _, t := range tables {
		if err := sc.findForeignKeys(ctx, t, parents); err != nil {
			return nil, err
		}
	}
	breakCycles(tables, existing)
	return tables, nil
}

// csvBlock reports whether a table needs a csv: block: its files are not written
// the way bronze import reads CSV by default.
func (t *table) csvBlock() bool {
	return t.inputs[0].format == inputfile.CSV && t.inputs[0].dialect != defaultDialect
}

// dialectNote says how the files differ from the default CSV dialect.
func (t *table) dialectNote() string {
	d := t.inputs[0].dialect
	var diffs []string
	if d.Delimiter != defaultDialect.Delimiter {
		diffs = append(diffs, fmt.Sprintf("delimiter %q", d.Delimiter))
	}
	if d.Quote != defaultDialect.Quote {
		diffs = append(diffs, fmt.Sprintf("quote %q", d.Quote))
	}
	if d.Escape != defaultDialect.Escape {
		diffs = append(diffs, fmt.Sprintf("escape %q", d.Escape))
	}
	if !d.Header {
		diffs = append(diffs, "no header row (the columns are named by position: rename them here and in base_silver)")
	}
	if d.SkipRows != 0 {
		diffs = append(diffs, fmt.Sprintf("%d line(s) to skip before the header", d.SkipRows))
	}
	if d.Encoding != defaultDialect.Encoding {
		diffs = append(diffs, fmt.Sprintf("GUESS: not UTF-8, read as %s", d.Encoding))
	}
	return "DuckDB's sniffer found " + strings.Join(diffs, ", ")
}
