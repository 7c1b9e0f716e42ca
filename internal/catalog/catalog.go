// Package catalog binds the layer-qualified names spec SQL reads (silver.orders,
// dims.customers, enriched.customer_ltv, ...) to committed lake data in a DuckDB
// session, one schema per layer, and renders the templates of spec SQL (DESIGN
// section 4). Data is found only through partition commit points (_MANIFEST.json),
// never by listing data files, so a reader sees whole partitions or none.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// Catalog binds names for one partition D: dims resolve to the snapshots on or
// before D; every other name stands for all committed partitions of its table
// (the SQL filters with {{ partition }}), or with a depends_on lookback (BindDeps)
// for those in [D - lookback, D] only.
type Catalog struct {
	Spec *spec.Spec
	Lake lake.Lake
	// Partition is D, YYYY-MM-DD.
	Partition string
	// WorkDir receives local copies of the files of a remote lake; they must
	// outlive the session's queries. A local lake is read in place.
	WorkDir string
	// Run, when set, overlays what that run staged (`worker sql --run`): a
	// partition it staged under _staging/<run>/ is bound instead of the committed
	// partition of the same value, or besides the committed ones when that value
	// has none, so a failed gate's output reads like committed data.
	Run string
	// RunOnlyPartition limits that overlay to the run's partition D (dims: its
	// snapshot of D); other partitions bind committed data only.
	RunOnlyPartition bool
	// PartitionGiven says D was chosen (`worker sql --partition`), not defaulted:
	// notes on an empty answer then count partitions on or before D only.
	PartitionGiven bool

	// staged caches the run's staged partition values by "layer/table".
	staged map[string][]string
}

// Binding is one name bound in a session.
type Binding struct {
	Ref spec.Ref
	// Window is the lookback the partitions were chosen by (zero: unbounded).
	Window spec.Window
	// Key is the partition key of the bound table's folders.
	Key string
	// Partitions are the committed partitions the view reads, by value; none for
	// a table with nothing committed yet (an empty view with the spec's columns).
	// With Catalog.Run, partitions that run staged stand in for committed ones.
	Partitions []*lake.Partition
	// Staged are the values of Partitions read from Catalog.Run's staging.
	Staged []string
}

// Rows is the number of rows the binding's partitions hold, by their manifests.
func (b Binding) Rows() int64 {
	var n int64
	for _, p := range b.Partitions {
		n += p.Manifest.RowCount
	}
	return n
}

// Values are the partition values the binding reads.
func (b Binding) Values() []string {
	out := make([]string, len(b.Partitions))
	for i, p := range b.Partitions {
		out[i] = p.Manifest.Partition[b.Key]
	}
	return out
}

// source says where a name's data lives and what an empty view looks like.
type source struct {
	ref          spec.Ref
	layer, table string
	key          string
	// pick chooses which committed partition values to bind.
	pick func(vals []string) []string
	// window is the lookback pick honours (zero: unbounded).
	window spec.Window
	// empty are the columns of the view when nothing is committed; nil makes an
	// empty binding an error (the columns are unknown).
	empty []lake.Field
	// viaPointer: try the table pointer (_latest.json) first; when its partition
	// is on or before D it is the answer and no commit points need listing.
	viaPointer bool
	// latestOf, when set, keeps one row per key of these columns: the one of the
	// latest partition (silver.<table>_latest).
	latestOf []string
}

// Names lists every name the catalog can bind, layer by layer.
func (c *Catalog) Names() []spec.Ref {
	s := c.Spec
	var out []spec.Ref
	for _, t := range s.Bronze.Tables {
		out = append(out, spec.Ref{Layer: lake.Bronze, Name: t.Name})
	}
	for _, t := range s.BaseSilver.Tables {
		out = append(out, spec.Ref{Layer: lake.Silver, Name: t.Name})
		if _, clash := s.SilverTable(t.Name + spec.LatestSuffix); !clash {
			out = append(out, spec.Ref{Layer: lake.Silver, Name: t.Name + spec.LatestSuffix})
		}
	}
	for _, t := range s.BaseSilver.Tables {
		out = append(out, spec.Ref{Layer: lake.Quarantine, Name: t.Name})
	}
	for _, d := range s.Dims {
		out = append(out, spec.Ref{Layer: lake.Dims, Name: d.Name}, spec.Ref{Layer: lake.Dims, Name: d.Name + spec.HistorySuffix})
	}
	for _, t := range s.Enriched.Transforms {
		out = append(out, spec.Ref{Layer: lake.Enriched, Name: t.Name})
	}
	return out
}

// Bind creates a view for each ref (CREATE SCHEMA silver; CREATE VIEW silver.orders
// AS ...) over its committed data, and returns what each view reads. A name the
// spec does not define is a usage error; an enriched dependency with nothing
// committed is a data error naming it.
func (c *Catalog) Bind(ctx context.Context, s *duck.Session, refs ...spec.Ref) ([]Binding, error) {
	return c.BindDeps(ctx, s, unbounded(refs)...)
}

// BindDeps is Bind with each name's window: a bounded one binds (and on a remote
// lake downloads) only the partitions in [D - lookback, D]. A name given twice
// binds once, with its first window.
func (c *Catalog) BindDeps(ctx context.Context, s *duck.Session, deps ...spec.Dep) ([]Binding, error) {
	if _, err := lake.ParseDate(c.Partition); err != nil {
		return nil, fail.Usage(fmt.Errorf("catalog: %w", err))
	}
	var out []Binding
	seen := map[spec.Ref]bool{}
	for _, dep := range deps {
		r := dep.Ref
		if seen[r] {
			continue
		}
		seen[r] = true
		src, err := c.resolveWindow(r, dep.Lookback)
		if err != nil {
			return out, err
		}
		b, err := c.bind(ctx, s, src)
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
	return out, nil
}

// BindAll binds every name of Names (for `worker sql`), except enriched transforms
// with nothing committed yet, whose columns are unknown.
func (c *Catalog) BindAll(ctx context.Context, s *duck.Session) ([]Binding, error) {
	var out []Binding
	for _, r := range c.Names() {
		b, err := c.Bind(ctx, s, r)
		var missing *MissingError
		if errors.As(err, &missing) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// MissingError says an enriched dependency has no committed partition, so its
// view cannot be created.
type MissingError struct {
	Ref spec.Ref
	// Window is the dependency's lookback; when bounded, older partitions may be
	// committed but lie outside it.
	Window spec.Window
	// Partition is D.
	Partition string
}

func (e *MissingError) Error() string {
	if e.Window.Bounded {
		return fmt.Sprintf("%s has no committed partition in its lookback %s [%s, %s], so its columns are unknown: build, validate and publish transform %q for those days first (a missing dependency)",
			e.Ref, e.Window, e.Window.Since(e.Partition), e.Partition, e.Ref.Name)
	}
	return fmt.Sprintf("%s has no committed partition yet, so its columns are unknown: build, validate and publish transform %q first (a missing dependency)", e.Ref, e.Ref.Name)
}

// resolve maps a ref to its folders, using the spec.
func (c *Catalog) resolve(r spec.Ref) (source, error) {
	s := c.Spec
	all := func(vals []string) []string { return vals }
	src := source{ref: r, layer: r.Layer, table: r.Name, pick: all}
	switch r.Layer {
	case lake.Bronze:
		t, ok := s.BronzeTable(r.Name)
		if !ok {
			break
		}
		src.key = s.BronzeKey()
		src.empty = append(fields(t.Columns), lake.Field{Name: src.key, Type: "DATE"})
		return src, nil
	case lake.Silver:
		t, latest, ok := s.SilverOf(r.Name)
		if !ok {
			break
		}
		src.table, src.key = t.Name, t.Key()
		if latest {
			// Silver dedups within a partition; across partitions a later one holds
			// the newer version (dedup.versions_within bounds how much later).
			src.latestOf = t.PrimaryKey
			src.pick = func(vals []string) []string {
				return vals[:sort.SearchStrings(vals, c.Partition+"\x00")] // values <= D
			}
		}
		src.empty = fields(t.Columns)
		if _, ok := t.Column(t.Key()); !ok {
			src.empty = append(src.empty, lake.Field{Name: t.Key(), Type: "DATE"})
		}
		return src, nil
	case lake.Quarantine:
		t, ok := s.SilverTable(r.Name)
		if !ok {
			break
		}
		src.key = t.Key()
		if b, ok := s.BronzeTable(t.Source); ok {
			src.empty = fields(b.Columns)
		}
		src.empty = append(append(src.empty, lake.QuarantineFields()...), lake.Field{Name: t.Key(), Type: "DATE"})
		return src, nil
	case lake.Dims:
		d, history, ok := s.DimOf(r.Name)
		if !ok {
			break
		}
		src.table, src.key = d.Name, lake.DimsKey
		if t, ok := s.SilverTable(d.Source); ok {
			src.empty = fields(t.Columns)
		}
		src.empty = append(src.empty, lake.Field{Name: lake.DimsKey, Type: "DATE"})
		upTo := func(vals []string) []string {
			n := sort.SearchStrings(vals, c.Partition+"\x00") // values <= D
			return vals[:n]
		}
		if history {
			src.pick = upTo
		} else {
			src.viaPointer = true
			src.pick = func(vals []string) []string {
				v := upTo(vals)
				if len(v) == 0 {
					return nil
				}
				return v[len(v)-1:]
			}
		}
		return src, nil
	case lake.Enriched:
		t, ok := s.Transform(r.Name)
		if !ok {
			break
		}
		src.key = t.Key()
		return src, nil
	case spec.LayerGold:
		return src, fail.Usage(fmt.Errorf("%s: gold tables live in the warehouse, not in the lake catalog", r))
	}
	return src, fail.Usage(fmt.Errorf("%s is not in the catalog of spec %s: use bronze.<table>, silver.<table>, quarantine.<table>, dims.<dim>, dims.<dim>_history or enriched.<transform> as the spec names them", r, c.Spec.File))
}

// bind creates the view of one source.
func (c *Catalog) bind(ctx context.Context, s *duck.Session, src source) (Binding, error) {
	b, err := c.partitions(ctx, src)
	if err != nil {
		return b, err
	}
	body, err := c.viewBody(ctx, s, src, b.Partitions)
	if err != nil {
		return b, err
	}
	if len(src.latestOf) > 0 {
		body = latestSelect(body, src.latestOf, src.key)
	}
	schema := duck.Ident(src.ref.Layer)
	q := fmt.Sprintf("CREATE OR REPLACE VIEW %s.%s AS\n%s", schema, duck.Ident(src.ref.Name), body)
	if err := s.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema, q); err != nil {
		return b, fmt.Errorf("bind %s: %w", src.ref, err)
	}
	return b, nil
}

// Partitions resolves what each ref binds for D, through the commit points (and
// Run's staged manifests), without a session or reading any data file: what Bind
// would read. Gold names are a usage error, as for Bind.
func (c *Catalog) Partitions(ctx context.Context, refs ...spec.Ref) ([]Binding, error) {
	return c.PartitionsDeps(ctx, unbounded(refs)...)
}

// PartitionsDeps is Partitions with each name's window, as BindDeps binds them.
func (c *Catalog) PartitionsDeps(ctx context.Context, deps ...spec.Dep) ([]Binding, error) {
	if _, err := lake.ParseDate(c.Partition); err != nil {
		return nil, fail.Usage(fmt.Errorf("catalog: %w", err))
	}
	var out []Binding
	for _, dep := range deps {
		r := dep.Ref
		if slices.ContainsFunc(out, func(b Binding) bool { return b.Ref == r }) {
			continue
		}
		src, err := c.resolveWindow(r, dep.Lookback)
		if err != nil {
			return out, err
		}
		b, err := c.partitions(ctx, src)
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
	return out, nil
}

// unbounded gives each ref the unbounded window.
func unbounded(refs []spec.Ref) []spec.Dep {
	deps := make([]spec.Dep, len(refs))
	for i, r := range refs {
		deps[i] = spec.Dep{Ref: r}
	}
	return deps
}

// resolveWindow is resolve, then narrows what the source picks to the window of D.
// A dims snapshot is one partition already: a window on it is a usage error (the
// loader refuses it in a spec), while dims.<dim>_history bounds its snapshots.
func (c *Catalog) resolveWindow(r spec.Ref, w spec.Window) (source, error) {
	src, err := c.resolve(r)
	if err != nil || !w.Bounded {
		return src, err
	}
	if src.viaPointer {
		return src, fail.Usage(fmt.Errorf("%s: a lookback bounds partitions, and a dims snapshot is one (the latest on or before D): use %s%s", r, r, spec.HistorySuffix))
	}
	pick := src.pick
	src.window = w
	src.pick = func(vals []string) []string {
		var in []string
		for _, v := range pick(vals) {
			if w.Contains(c.Partition, v) {
				in = append(in, v)
			}
		}
		return in
	}
	return src, nil
}

// partitions reads the manifests of the partitions a source binds.
func (c *Catalog) partitions(ctx context.Context, src source) (Binding, error) {
	b := Binding{Ref: src.ref, Key: src.key, Window: src.window}
	vals, staged, err := c.candidates(ctx, src)
	if err != nil {
		return b, fmt.Errorf("bind %s: %w", src.ref, err)
	}
	for _, v := range vals {
		read := lake.ReadCommitted
		if slices.Contains(staged, v) {
			read = func(ctx context.Context, l lake.Lake, layer, table, key, value string) (*lake.Partition, error) {
				return lake.ReadStaged(ctx, l, c.Run, layer, table, key, value)
			}
			b.Staged = append(b.Staged, v)
		}
		p, err := read(ctx, c.Lake, src.layer, src.table, src.key, v)
		if err != nil {
			return b, fmt.Errorf("bind %s: %w", src.ref, err)
		}
		b.Partitions = append(b.Partitions, p)
	}
	return b, nil
}

// candidates lists the partition values a source binds. A dim's latest snapshot is
// read through dims/<dim>/_latest.json when that pointer's snapshot is on or before
// D (the common case: today's run); an older D (a backfill) lists the commit points.
// With Catalog.Run, the run's staged values join the committed ones.
// It returns the values to bind and, of those, the ones to read from staging.
func (c *Catalog) candidates(ctx context.Context, src source) (vals, staged []string, err error) {
	staged, err = c.stagedValues(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	if src.viaPointer && len(staged) == 0 {
		ptr, _, err := lake.ReadPointer(ctx, c.Lake, path.Join(lake.TableDir(src.layer, src.table), lake.LatestFile))
		switch {
		case err == nil && ptr.Partition[src.key] != "" && ptr.Partition[src.key] <= c.Partition:
			return []string{ptr.Partition[src.key]}, nil, nil
		case err != nil && !errors.Is(err, lake.ErrNotExist):
			return nil, nil, err
		}
	}
	vals, err = lake.CommittedPartitions(ctx, c.Lake, src.layer, src.table, src.key)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range staged {
		if !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	sort.Strings(vals)
	return src.pick(vals), staged, nil
}

// stagedValues are the partition values of src that Catalog.Run staged (none
// without a run).
func (c *Catalog) stagedValues(ctx context.Context, src source) ([]string, error) {
	if c.Run == "" {
		return nil, nil
	}
	if err := c.LoadRun(ctx); err != nil {
		return nil, err
	}
	var out []string
	for _, v := range c.staged[path.Join(src.layer, src.table, src.key)] {
		if !c.RunOnlyPartition || v == c.Partition {
			out = append(out, v)
		}
	}
	return out, nil
}

// LoadRun lists what Catalog.Run staged, once per catalog. A run that staged
// nothing is a usage error, since every name would silently read committed data.
func (c *Catalog) LoadRun(ctx context.Context) error {
	if c.Run == "" || c.staged != nil {
		return nil
	}
	parts, err := lake.StagedPartitions(ctx, c.Lake, c.Run)
	if err != nil {
		return fmt.Errorf("list the staging of run %s: %w", c.Run, err)
	}
	if len(parts) == 0 {
		return fail.Usage(fmt.Errorf("run %s staged nothing: no %s/%s/<layer>/<table>/<key>=<value>/%s (a wrong run id, or worker gc removed its staging)",
			c.Run, lake.StagingRoot, c.Run, lake.ManifestFile))
	}
	c.staged = map[string][]string{}
	for _, p := range parts {
		k := path.Join(p.Layer, p.Table, p.Key)
		c.staged[k] = append(c.staged[k], p.Value)
	}
	return nil
}

// viewBody is the SELECT a view runs: one read_parquet over the partitions whose
// files carry the partition key column (silver, enriched, dims), plus one SELECT per
// partition whose files lack it (quarantine, bronze) that adds it as a DATE, so every
// view has its partition key (dims: snapshot_dt) as a column. Files combine by name,
// so partitions written before a column was added still read.
func (c *Catalog) viewBody(ctx context.Context, s *duck.Session, src source, parts []*lake.Partition) (string, error) {
	var carried, selects []string
	var schema []lake.Field
	for _, p := range parts {
		if schema == nil && len(p.Manifest.Schema) > 0 {
			schema = p.Manifest.Schema
		}
		paths := p.FilePaths()
		if len(paths) == 0 {
			continue
		}
		locals, err := lake.Localize(ctx, c.Lake, paths, c.WorkDir)
		if err != nil {
			return "", fmt.Errorf("bind %s: %w", src.ref, err)
		}
		has, err := carries(ctx, s, p.Manifest, locals, src.key)
		if err != nil {
			return "", fmt.Errorf("bind %s: read %s: %w", src.ref, p.Dir, err)
		}
		if has {
			carried = append(carried, locals...)
			continue
		}
		selects = append(selects, fmt.Sprintf("SELECT *, DATE %s AS %s FROM %s",
			duck.Str(p.Manifest.Partition[src.key]), duck.Ident(src.key), readParquet(locals)))
	}
	if len(carried) > 0 {
		selects = append([]string{"SELECT * FROM " + readParquet(carried)}, selects...)
	}
	if len(selects) > 0 {
		return strings.Join(selects, "\nUNION ALL BY NAME\n"), nil
	}
	// Nothing to read: an empty view with the committed schema, or the spec's columns.
	cols := src.empty
	if schema != nil {
		cols = schema
		if !hasField(cols, src.key) {
			cols = append(append([]lake.Field{}, cols...), lake.Field{Name: src.key, Type: "DATE"})
		}
	}
	if cols == nil {
		return "", fail.Data(&MissingError{Ref: src.ref, Window: src.window, Partition: c.Partition})
	}
	return emptySelect(cols), nil
}

// carries reports whether a partition's files hold the partition key as a column:
// from the manifest's schema when it has one, else from the files themselves.
func carries(ctx context.Context, s *duck.Session, m *lake.Manifest, locals []string, key string) (bool, error) {
	if len(m.Schema) > 0 {
		return hasField(m.Schema, key), nil
	}
	rows, err := s.Conn.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM "+readParquet(locals)+")")
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return false, err
		}
		found = found || n == key
	}
	return found, rows.Err()
}

// readParquet reads lake files by their own columns only: the lake's folder names
// (ingestion_dt=..., run=...) must not turn into columns, hence no hive partitioning.
func readParquet(locals []string) string {
	return "read_parquet(" + duck.StrList(locals) + ", hive_partitioning = false, union_by_name = true)"
}

// latestSelect keeps, of the rows body returns, one per key: the row of the
// latest partition (a partition holds a key once: silver dedups within it).
func latestSelect(body string, key []string, partKey string) string {
	cols := make([]string, len(key))
	for i, k := range key {
		cols[i] = duck.Ident(k)
	}
	return fmt.Sprintf("SELECT * FROM (\n%s\n) AS _versions\nQUALIFY row_number() OVER (PARTITION BY %s ORDER BY %s DESC) = 1",
		body, strings.Join(cols, ", "), duck.Ident(partKey))
}

// PreviousSchema is the schema {{ previous }} binds in: previous.<transform>.
const PreviousSchema = "previous"

// BindPrevious binds previous.<transform> to partition D-1 of an incremental
// transform, or, on its first build (no partition before D committed), to an
// empty relation of its declared columns; it returns what it bound and the
// relation's name for {{ previous }}. A D-1 that is not committed while an
// earlier partition is, is a data error naming it: days build in order.
func (c *Catalog) BindPrevious(ctx context.Context, s *duck.Session, t *spec.Transform) (Binding, string, error) {
	ref := spec.Ref{Layer: lake.Enriched, Name: t.Name}
	b := Binding{Ref: ref, Key: t.Key()}
	name := duck.Ident(PreviousSchema) + "." + duck.Ident(t.Name)
	d, err := lake.ParseDate(c.Partition)
	if err != nil {
		return b, "", fail.Usage(fmt.Errorf("catalog: %w", err))
	}
	prev := d.AddDate(0, 0, -1).Format(time.DateOnly)
	vals, err := lake.CommittedPartitions(ctx, c.Lake, lake.Enriched, t.Name, t.Key())
	if err != nil {
		return b, "", fmt.Errorf("bind %s partition %s: %w", name, prev, err)
	}
	vals = vals[:sort.SearchStrings(vals, c.Partition)] // values < D
	src := source{ref: ref, layer: lake.Enriched, table: t.Name, key: t.Key(),
		empty: append(fields(t.Columns), lake.Field{Name: t.Key(), Type: "DATE"})}
	switch {
	case len(vals) == 0:
		// The first build: yesterday's state is empty.
	case vals[len(vals)-1] != prev:
		return b, "", fail.Data(fmt.Errorf("incremental transform %s builds partition %s on its partition %s, which is not committed (the latest before %s is %s): build the days from %s on in order, e.g. worker run --start %s --end %s",
			t.Name, c.Partition, prev, c.Partition, vals[len(vals)-1], nextDay(vals[len(vals)-1]), nextDay(vals[len(vals)-1]), c.Partition))
	default:
		p, err := lake.ReadCommitted(ctx, c.Lake, lake.Enriched, t.Name, t.Key(), prev)
		if err != nil {
			return b, "", fmt.Errorf("bind %s partition %s: %w", name, prev, err)
		}
		b.Partitions = []*lake.Partition{p}
	}
	body, err := c.viewBody(ctx, s, src, b.Partitions)
	if err != nil {
		return b, "", err
	}
	schema := duck.Ident(PreviousSchema)
	q := fmt.Sprintf("CREATE OR REPLACE VIEW %s AS\n%s", name, body)
	if err := s.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema, q); err != nil {
		return b, "", fmt.Errorf("bind %s partition %s: %w", name, prev, err)
	}
	return b, name, nil
}

func nextDay(v string) string {
	d, err := lake.ParseDate(v)
	if err != nil {
		return v
	}
	return d.AddDate(0, 0, 1).Format(time.DateOnly)
}

func emptySelect(cols []lake.Field) string {
	parts := make([]string, len(cols))
	for i, f := range cols {
		parts[i] = fmt.Sprintf("CAST(NULL AS %s) AS %s", safeType(f.Type), duck.Ident(f.Name))
	}
	return "SELECT " + strings.Join(parts, ", ") + " WHERE false"
}

// typeName matches plain type names: VARCHAR, DECIMAL(12,2), TIMESTAMP WITH TIME ZONE, INTEGER[].
var typeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_ ]*(\(\d+(,\s*\d+)?\))?(\[\])*$`)

// safeType keeps a type name read from a manifest from carrying SQL: anything
// but a plain type name reads as VARCHAR (it only types an empty view).
func safeType(t string) string {
	if !typeName.MatchString(t) {
		return "VARCHAR"
	}
	return t
}

func fields(cols []spec.Column) []lake.Field {
	out := make([]lake.Field, len(cols))
	for i, c := range cols {
		out[i] = lake.Field{Name: c.Name, Type: c.Type}
	}
	return out
}

func hasField(fs []lake.Field, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}
