// Package spec loads and validates pipeline specs (DESIGN section 4): the YAML
// file, the SQL files it names, and the task graph they imply.
package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Spec is a loaded, validated pipeline spec.
//
// Fields tagged spec:"required" must be present and not empty; the loader and the
// JSON Schema both read that tag.
type Spec struct {
	Pipeline   string     `yaml:"pipeline" spec:"required"`
	Schedule   string     `yaml:"schedule"`
	Bronze     Bronze     `yaml:"bronze"`
	BaseSilver BaseSilver `yaml:"base_silver"`
	Dims       []Dim      `yaml:"dims"`
	Enriched   Enriched   `yaml:"enriched"`
	Gold       Gold       `yaml:"gold"`
	Deploy     Deploy     `yaml:"deploy"`

	// Dir is the spec folder, as given to Load (for messages).
	Dir string `yaml:"-"`
	// File is the path of the pipeline YAML, as shown in messages.
	File string `yaml:"-"`
	// SQL maps each SQL path named by the spec (relative to Dir) to its text.
	SQL map[string]string `yaml:"-"`
	// SHA256 is the hex sha256 over the spec's YAML and SQL files, sorted by path.
	SHA256 string `yaml:"-"`

	// pos holds the YAML position of every decoded value and mapping key, by path.
	pos positions
}

// Bronze describes the raw, upstream-written layer.
type Bronze struct {
	// PartitionKey names the partition folder key (default ingest_dt).
	PartitionKey string `yaml:"partition_key"`
	// NullValues are the raw text values that mean "missing" in every bronze table
	// that names none of its own (default [""]; see BronzeTable.NullValues).
	NullValues []string      `yaml:"null_values"`
	Tables     []BronzeTable `yaml:"tables"`
}

// BronzeTable is one upstream table and the columns its files must carry.
type BronzeTable struct {
	Name    string   `yaml:"name" spec:"required"`
	Columns []Column `yaml:"columns" spec:"required"`
	// NullValues are the raw values that mean "missing", replacing bronze.null_values
	// for this table; after Load it holds the table's effective list. A value matches
	// when it equals a token after trimming, case-sensitively; [] means no token at
	// all, not even "". Silver applies them to text bronze columns, bronze import to
	// text it casts to a typed bronze column.
	NullValues []string `yaml:"null_values"`
	// CSV is the dialect of the table's CSV files; nil: detected per file.
	CSV *CSV `yaml:"csv"`
	// AllowEmpty lets a partition hold no rows; by default the bronze gate fails
	// an empty partition (an extract that delivered nothing is usually broken).
	AllowEmpty bool `yaml:"allow_empty"`
}

// CSV is the dialect of a bronze table's CSV files. A key left out takes the
// RFC 4180 default given on its method; nothing is sniffed once the block is given.
type CSV struct {
	Delimiter string `yaml:"delimiter"`
	// Quote and Escape are one character, or "" for none.
	Quote  *string `yaml:"quote"`
	Escape *string `yaml:"escape"`
	Header *bool   `yaml:"header"`
	// SkipRows are lines skipped before the header (or the first row).
	SkipRows int    `yaml:"skip_rows"`
	Encoding string `yaml:"encoding"`
}

// CSVEncodings are the encodings DuckDB's CSV reader decodes without extensions.
var CSVEncodings = []string{"utf-8", "latin-1", "utf-16"}

// DefaultNullValues is bronze.null_values when the spec gives none: the empty string.
var DefaultNullValues = []string{""}

// Delim is the field delimiter (default ',').
func (c *CSV) Delim() byte {
	if c == nil || c.Delimiter == "" {
		return ','
	}
	return c.Delimiter[0]
}

// QuoteChar is the quote character, 0 for none (default '"').
func (c *CSV) QuoteChar() byte {
	if c == nil || c.Quote == nil {
		return '"'
	}
	if *c.Quote == "" {
		return 0
	}
	return (*c.Quote)[0]
}

// EscapeChar is the character that escapes a quote inside a quoted field, 0 for
// none (default: the quote character, so "" is a literal ").
func (c *CSV) EscapeChar() byte {
	if c == nil || c.Escape == nil {
		return c.QuoteChar()
	}
	if *c.Escape == "" {
		return 0
	}
	return (*c.Escape)[0]
}

// HasHeader reports whether the first row (after skip_rows) names the columns
// (default true); without one, columns are the bronze columns by position.
func (c *CSV) HasHeader() bool { return c == nil || c.Header == nil || *c.Header }

// EncodingName is the file encoding (default utf-8).
func (c *CSV) EncodingName() string {
	if c == nil || c.Encoding == "" {
		return "utf-8"
	}
	return c.Encoding
}

// NullTokens is the table's effective null_values (the default when unset).
func (t *BronzeTable) NullTokens() []string {
	if t.NullValues == nil {
		return DefaultNullValues
	}
	return t.NullValues
}

// Column is a named, typed column. Types are DuckDB type names.
type Column struct {
	Name           string   `yaml:"name" spec:"required"`
	Type           string   `yaml:"type" spec:"required"`
	Expr           string   `yaml:"expr"`
	NotNull        bool     `yaml:"not_null"`
	AcceptedValues []string `yaml:"accepted_values"`
	Check          string   `yaml:"check"`
	Description    string   `yaml:"description"`
}

// BaseSilver holds the typed, cleaned, checked tables.
type BaseSilver struct {
	Tables []SilverTable `yaml:"tables"`
}

// SilverTable is one base-silver table built from one bronze table.
type SilverTable struct {
	Name         string       `yaml:"name" spec:"required"`
	Source       string       `yaml:"source" spec:"required"`
	PartitionKey string       `yaml:"partition_key"`
	PrimaryKey   []string     `yaml:"primary_key" spec:"required"`
	Dedup        *Dedup       `yaml:"dedup"`
	Columns      []Column     `yaml:"columns" spec:"required"`
	ForeignKeys  []ForeignKey `yaml:"foreign_keys"`
	Thresholds   Thresholds   `yaml:"thresholds"`
	Description  string       `yaml:"description"`
}

// Dedup chooses which row of a duplicated primary key survives.
type Dedup struct {
	// OrderBy is a list of "column [asc|desc]" terms over silver columns.
	OrderBy []string `yaml:"order_by" spec:"required"`
	// VersionsWithin is the domain's promise that every version of a key lands in a
	// partition at most this many days after the key's first ("3d"); empty: no
	// promise. Incremental transforms read that window of the table to find the
	// previous version of a key that changed on D.
	VersionsWithin string `yaml:"versions_within"`
}

// WithinDays is versions_within in days (0: no promise).
func (d *Dedup) WithinDays() int {
	if d == nil {
		return 0
	}
	n, _ := ParseDays(d.VersionsWithin)
	return n
}

// ParseDays parses a whole number of days ("3d", "72h") of at least one day.
func ParseDays(s string) (int, error) {
	age, err := ParseAge(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write a number of days, e.g. 3d", s)
	}
	if age < 24*time.Hour || age%(24*time.Hour) != 0 {
		return 0, fmt.Errorf("%q must be a whole number of days, at least 1d", s)
	}
	return int(age / (24 * time.Hour)), nil
}

// ForeignKey says Column (or the Columns of a composite key) must exist in
// References: "table.column", or "table.(x, y)" for a composite key, naming a
// base-silver table and its primary key.
type ForeignKey struct {
	Column     string   `yaml:"column" unsupported:"for a composite key write columns: [a, b] and references: table.(x, y)"`
	Columns    []string `yaml:"columns"`
	References string   `yaml:"references" spec:"required" unsupported:"for a composite key write references: table.(x, y)"`
	// OnOrphan is what a row whose key is missing from the parent gets:
	// OnOrphanQuarantine (the default) or OnOrphanWarn.
	OnOrphan string `yaml:"on_orphan"`
	// Lookback bounds the parent partitions checked for partition D to [D-N, D]
	// ("Nd" or "Nw", see ParseLookback); empty: every parent partition up to D.
	Lookback string `yaml:"lookback"`
}

// Window is the parsed lookback of the foreign key (unbounded when it does not
// parse; Load rejects that).
func (f ForeignKey) Window() Window {
	w, _ := ParseLookback(f.Lookback)
	return w
}

// What a foreign key does with an orphan row (on_orphan).
const (
	// OnOrphanQuarantine sends the row to quarantine as fk_orphan:<columns>.
	OnOrphanQuarantine = "quarantine"
	// OnOrphanWarn keeps the row in silver; the gate counts and reports it as a warning.
	OnOrphanWarn = "warn"
)

// Thresholds bound what a silver gate accepts.
type Thresholds struct {
	MaxQuarantineRate *float64 `yaml:"max_quarantine_rate"`
	MaxRowLoss        *float64 `yaml:"max_row_loss"`
	// MinRowsForRate is the fewest rows a rate is computed over: the gate divides by
	// max(rows_in, MinRowsForRate), so one bad row of ten does not fail it.
	MinRowsForRate *int64 `yaml:"min_rows_for_rate"`
}

// Dim is a dimension snapshot of a base-silver table.
type Dim struct {
	Name   string `yaml:"name" spec:"required"`
	Source string `yaml:"source" spec:"required"`
	MaxAge string `yaml:"max_age" spec:"required"`
}

// Enriched holds SQL transforms over silver and dims.
type Enriched struct {
	Transforms []Transform `yaml:"transforms"`
}

// Transform is one enriched SQL transform.
type Transform struct {
	Name         string           `yaml:"name" spec:"required"`
	SQL          string           `yaml:"sql" spec:"required"`
	DependsOn    []DependsOnEntry `yaml:"depends_on"`
	PartitionKey string           `yaml:"partition_key"`
	// Incremental lets the SQL read the transform's own partition D-1 as
	// {{ previous }}: partition D is yesterday's state plus today's changes, so
	// days build in order (a gap is an error; the DAG task depends on its past).
	Incremental bool `yaml:"incremental"`
	// Columns are the output columns (name and type), the partition key left out:
	// every build's output is checked against them, and they type the empty
	// {{ previous }} of an incremental transform's first build. Required with
	// Incremental.
	Columns     []Column `yaml:"columns"`
	Checks      Checks   `yaml:"checks"`
	Description string   `yaml:"description"`
}

// Checks are the gates of an enriched transform.
type Checks struct {
	MinRows *int64   `yaml:"min_rows"`
	NotNull []string `yaml:"not_null"`
	Rules   []string `yaml:"rules"`
}

// Gold holds warehouse marts.
type Gold struct {
	Facts []Mart `yaml:"facts"`
	Dims  []Mart `yaml:"dims"`
}

// Mart is one gold table built by SQL.
type Mart struct {
	Name        string           `yaml:"name" spec:"required"`
	SQL         string           `yaml:"sql" spec:"required"`
	DependsOn   []DependsOnEntry `yaml:"depends_on"`
	PartitionBy string           `yaml:"partition_by"`
	ClusterBy   []string         `yaml:"cluster_by"`
	SCD2        bool             `yaml:"scd2"`
	Description string           `yaml:"description"`
}

// Deploy configures the generated DAGs.
type Deploy struct {
	Image          string             `yaml:"image"`
	Namespace      string             `yaml:"namespace"`
	ServiceAccount string             `yaml:"service_account"`
	Schedules      map[string]*string `yaml:"schedules"`

	// The fields below tune the generated DAGs (internal/dagsgen); all are optional.

	// Mode chooses which DAGs are generated, never both sets: "end_to_end" (the
	// default: <pipeline>_silver_to_gold) or "layered" (one DAG per layer, chained
	// by Airflow Assets). <pipeline>_dims_refresh is generated in both modes.
	Mode string `yaml:"mode"`
	// Gold includes the gold load and build tasks (default true); false ends the
	// pipeline at publish.
	Gold *bool `yaml:"gold"`
	// BronzeWait is how long a bronze gate polls for a late partition before it
	// gives up with exit 4 and skips what depends on it (a Go duration; default 2h).
	BronzeWait string `yaml:"bronze_wait"`
	// StartDate is the DAGs' start_date, YYYY-MM-DD (default 2020-01-01).
	StartDate string `yaml:"start_date"`
	// ConfigMap names a Kubernetes ConfigMap whose keys become the pods' environment
	// (WORKER_LAKE, WORKER_WAREHOUSE, ... per environment); default
	// "<pipeline>-worker", "" for none.
	ConfigMap *string `yaml:"config_map"`
	// Env adds environment variables to every task pod.
	Env map[string]string `yaml:"env"`
	// Resources are every pod's CPU and memory, over the defaults (memory: silver
	// 2Gi, enriched 6Gi, other tasks 1Gi; cpu 1).
	Resources *Resources `yaml:"resources"`
	// Retries of a task (default 2); gate tasks never retry.
	Retries *int `yaml:"retries"`
	// RetryDelay is the wait before a retry (a Go duration; default 5m).
	RetryDelay string `yaml:"retry_delay"`
	// Pool is the Airflow pool of every task (default: Airflow's default pool).
	Pool string `yaml:"pool"`
	// ExecutionTimeout is how long one try of a task may run before Airflow
	// kills it and retries it (a Go duration; default 2h); a bronze gate gets
	// bronze_wait on top, since it may poll that long.
	ExecutionTimeout string `yaml:"execution_timeout"`
	// Tables overrides resources, retries, pool and execution_timeout for the tasks of one table,
	// dim, transform or mart, by name.
	Tables map[string]TaskDeploy `yaml:"tables"`
}

// Resources are a pod's requests, also set as its limits (the worker sizes DuckDB
// from the cgroup's limits). Values are Kubernetes quantities: "500m", "2", "6Gi".
type Resources struct {
	CPU    string `yaml:"cpu"`
	Memory string `yaml:"memory"`
}

// TaskDeploy overrides deploy settings for the tasks of one table.
type TaskDeploy struct {
	Resources *Resources `yaml:"resources"`
	Retries   *int       `yaml:"retries"`
	Pool      string     `yaml:"pool"`
	// ExecutionTimeout replaces deploy.execution_timeout for the table's tasks.
	ExecutionTimeout string `yaml:"execution_timeout"`
}

// DefaultBronzePartitionKey is bronze's partition key when the spec names none.
const DefaultBronzePartitionKey = "ingest_dt"

// DefaultPartitionKey is the partition key of silver and later layers.
const DefaultPartitionKey = "ingestion_dt"

// BronzeTable returns the bronze table named name.
func (s *Spec) BronzeTable(name string) (*BronzeTable, bool) {
	for i := range s.Bronze.Tables {
		if s.Bronze.Tables[i].Name == name {
			return &s.Bronze.Tables[i], true
		}
	}
	return nil, false
}

// SilverTable returns the base-silver table named name.
func (s *Spec) SilverTable(name string) (*SilverTable, bool) {
	for i := range s.BaseSilver.Tables {
		if s.BaseSilver.Tables[i].Name == name {
			return &s.BaseSilver.Tables[i], true
		}
	}
	return nil, false
}

// BronzeKey is the bronze partition key, defaulted.
func (s *Spec) BronzeKey() string {
	if s.Bronze.PartitionKey == "" {
		return DefaultBronzePartitionKey
	}
	return s.Bronze.PartitionKey
}

// Key is the table's partition key, defaulted.
func (t *SilverTable) Key() string {
	if t.PartitionKey == "" {
		return DefaultPartitionKey
	}
	return t.PartitionKey
}

// Column returns the silver column named name.
func (t *SilverTable) Column(name string) (*Column, bool) {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i], true
		}
	}
	return nil, false
}

// Column returns the bronze column named name.
func (t *BronzeTable) Column(name string) (*Column, bool) {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i], true
		}
	}
	return nil, false
}

// ParentTable is the referenced table of a foreign key ("customers" of "customers.customer_id").
func (f ForeignKey) ParentTable() string {
	t, _ := splitRef(f.References)
	return t
}

// ParentColumn is the first referenced column of a foreign key (its only one
// unless the key is composite).
func (f ForeignKey) ParentColumn() string {
	if cs := f.ParentColumns(); len(cs) > 0 {
		return cs[0]
	}
	return ""
}

// ParentColumns are the referenced columns: [c] of "table.c", [x, y] of
// "table.(x, y)" (nil when the parenthesised list does not parse; Load rejects it).
func (f ForeignKey) ParentColumns() []string {
	_, c := splitRef(f.References)
	inner, ok := strings.CutPrefix(c, "(")
	if !ok {
		return []string{c}
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return nil
	}
	var out []string
	for _, p := range strings.Split(inner, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// ChildColumns are the key's columns in this table: Columns, or [Column].
func (f ForeignKey) ChildColumns() []string {
	if len(f.Columns) > 0 {
		return f.Columns
	}
	if f.Column != "" {
		return []string{f.Column}
	}
	return nil
}

// Name names the key in reason codes and checks: its columns joined by ","
// ("customer_id", "carrier,tailnum").
func (f ForeignKey) Name() string { return strings.Join(f.ChildColumns(), ",") }

// Reason is the quarantine reason of an orphan row: fk_orphan:<Name>.
func (f ForeignKey) Reason() string { return "fk_orphan:" + f.Name() }

// Warns is true when an orphan row stays in silver (on_orphan: warn).
func (f ForeignKey) Warns() bool { return f.OnOrphan == OnOrphanWarn }

func splitRef(ref string) (string, string) {
	for i := 0; i < len(ref); i++ {
		if ref[i] == '.' {
			return ref[:i], ref[i+1:]
		}
	}
	return ref, ""
}

// Key is the transform's partition key, defaulted.
func (t *Transform) Key() string {
	if t.PartitionKey == "" {
		return DefaultPartitionKey
	}
	return t.PartitionKey
}

// Dim returns the dim named name.
func (s *Spec) Dim(name string) (*Dim, bool) {
	for i := range s.Dims {
		if s.Dims[i].Name == name {
			return &s.Dims[i], true
		}
	}
	return nil, false
}

// Transform returns the enriched transform named name.
func (s *Spec) Transform(name string) (*Transform, bool) {
	for i := range s.Enriched.Transforms {
		if s.Enriched.Transforms[i].Name == name {
			return &s.Enriched.Transforms[i], true
		}
	}
	return nil, false
}

// Mart returns the gold fact or dim named name.
func (s *Spec) Mart(name string) (*Mart, bool) {
	for _, ms := range [][]Mart{s.Gold.Facts, s.Gold.Dims} {
		for i := range ms {
			if ms[i].Name == name {
				return &ms[i], true
			}
		}
	}
	return nil, false
}

// Marts returns the gold facts, then the gold dims.
func (s *Spec) Marts() []*Mart {
	var out []*Mart
	for _, ms := range [][]Mart{s.Gold.Facts, s.Gold.Dims} {
		for i := range ms {
			out = append(out, &ms[i])
		}
	}
	return out
}

// Age is the dim's max_age as a duration (0 if it does not parse; Load rejects that).
func (d *Dim) Age() time.Duration {
	a, _ := ParseAge(d.MaxAge)
	return a
}

// ParseAge parses a duration as time.ParseDuration does, also accepting a "d"
// (24h day) unit: "24h", "90m", "7d", "1d12h".
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var total time.Duration
	rest := s
	// Split off whole-day terms; time.ParseDuration handles the rest.
	for {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		if i == 0 || i >= len(rest) || rest[i] != 'd' {
			break
		}
		n, err := strconv.ParseInt(rest[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		total += time.Duration(n) * 24 * time.Hour
		rest = rest[i+1:]
	}
	if rest == "" {
		if s == "" {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return total, nil
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return total + d, nil
}

// Ref is a layer-qualified table name as depends_on and SQL files use it:
// silver.orders, dims.customers, dims.customers_history, enriched.x, gold.y.
type Ref struct {
	Layer string
	Name  string
}

func (r Ref) String() string { return r.Layer + "." + r.Name }

// ParseRef splits "layer.name"; both parts must be identifiers.
func ParseRef(s string) (Ref, error) {
	l, n, ok := strings.Cut(s, ".")
	if !ok || !IsIdent(l) || !IsIdent(n) {
		return Ref{}, fmt.Errorf("%q is not a layer-qualified name like silver.orders", s)
	}
	return Ref{Layer: l, Name: n}, nil
}

// DependsOnEntry is one depends_on entry: a layer-qualified name ("silver.orders",
// every partition up to D), or a mapping {table: silver.orders, lookback: 1d} that
// binds only the partitions in [D - lookback, D]. The bare name is the Table field
// (the "scalar" tag option).
type DependsOnEntry struct {
	Table string `yaml:"table" spec:"required,scalar"`
	// Lookback is "Nd" or "Nw" (see ParseLookback); empty: unbounded.
	Lookback string `yaml:"lookback"`
}

// Window is the entry's parsed lookback (unbounded when it does not parse; Load
// rejects that).
func (e DependsOnEntry) Window() Window {
	w, _ := ParseLookback(e.Lookback)
	return w
}

// Window bounds the partitions a dependency binds for partition D to [D-Days, D].
// The zero Window is unbounded: every committed partition.
type Window struct {
	// Days is the lookback N; meaningful only when Bounded.
	Days    int
	Bounded bool
}

// LookbackDays returns the bounded Window [D-n, D].
func LookbackDays(n int) Window { return Window{Days: n, Bounded: true} }

// String is "unbounded" or the lookback in days ("1d").
func (w Window) String() string {
	if !w.Bounded {
		return "unbounded"
	}
	return strconv.Itoa(w.Days) + "d"
}

// Since is the oldest partition value the window binds for D (YYYY-MM-DD), or ""
// when it is unbounded or D is not a date.
func (w Window) Since(d string) string {
	if !w.Bounded {
		return ""
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -w.Days).Format(time.DateOnly)
}

// Contains reports whether partition value v lies in the window of D: in
// [D-Days, D] when bounded, always when unbounded (callers bound above themselves).
// Values compare as YYYY-MM-DD strings.
func (w Window) Contains(d, v string) bool {
	if !w.Bounded {
		return true
	}
	since := w.Since(d)
	return since != "" && v >= since && v <= d
}

// MaxLookbackDays bounds a lookback (about 100 years): a longer one is a typo.
const MaxLookbackDays = 36600

// ParseLookback parses a lookback of whole days: "Nd" (N days) or "Nw" (7N days),
// N a non-negative integer; "0d" binds partition D only. "" is unbounded.
func ParseLookback(s string) (Window, error) {
	if s == "" {
		return Window{}, nil
	}
	bad := fmt.Errorf("lookback %q: write whole days or weeks, e.g. 0d, 1d, 90d or 2w", s)
	if len(s) < 2 {
		return Window{}, bad
	}
	num, unit := s[:len(s)-1], s[len(s)-1]
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return Window{}, bad
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return Window{}, bad
	}
	switch unit {
	case 'd':
	case 'w':
		n *= 7
	default:
		return Window{}, bad
	}
	if n > MaxLookbackDays {
		return Window{}, fmt.Errorf("lookback %q is more than %d days", s, MaxLookbackDays)
	}
	return LookbackDays(n), nil
}

// Dep is one parsed depends_on entry: the name and the window it binds.
type Dep struct {
	Ref      Ref
	Lookback Window
}

// Deps parses the transform's depends_on with each entry's window (entries that do
// not parse are skipped; Load rejects them).
func (t *Transform) Deps() []Dep { return parseDeps(t.DependsOn) }

// Deps parses the mart's depends_on with each entry's window (entries that do not
// parse are skipped; Load rejects them).
func (m *Mart) Deps() []Dep { return parseDeps(m.DependsOn) }

// Refs parses the transform's depends_on (entries that do not parse are skipped;
// Load rejects them).
func (t *Transform) Refs() []Ref { return depRefs(t.Deps()) }

// Refs parses the mart's depends_on (entries that do not parse are skipped;
// Load rejects them).
func (m *Mart) Refs() []Ref { return depRefs(m.Deps()) }

// Tables are the depends_on names as written, for messages.
func (m *Mart) Tables() []string { return entryTables(m.DependsOn) }

// Tables are the depends_on names as written, for messages.
func (t *Transform) Tables() []string { return entryTables(t.DependsOn) }

func entryTables(es []DependsOnEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Table
	}
	return out
}

func parseDeps(es []DependsOnEntry) []Dep {
	var out []Dep
	for _, e := range es {
		if r, err := ParseRef(e.Table); err == nil {
			out = append(out, Dep{Ref: r, Lookback: e.Window()})
		}
	}
	return out
}

func depRefs(ds []Dep) []Ref {
	var out []Ref
	for _, d := range ds {
		out = append(out, d.Ref)
	}
	return out
}

// HistorySuffix marks the dims name that binds every snapshot of a dim (dims.<dim>_history).
const HistorySuffix = "_history"

// LatestSuffix marks the silver name that binds the latest version of every key
// across the partitions up to D (silver.<table>_latest).
const LatestSuffix = "_latest"

// SilverOf resolves a silver reference to its table and whether it is the
// latest-version form (silver.<table>_latest). A table's own name wins.
func (s *Spec) SilverOf(name string) (t *SilverTable, latest bool, ok bool) {
	if t, ok := s.SilverTable(name); ok {
		return t, false, true
	}
	if base, cut := strings.CutSuffix(name, LatestSuffix); cut {
		if t, ok := s.SilverTable(base); ok {
			return t, true, true
		}
	}
	return nil, false, false
}

// DimOf resolves a dims reference to its dim and whether it is the history form.
func (s *Spec) DimOf(name string) (d *Dim, history bool, ok bool) {
	if d, ok := s.Dim(name); ok {
		return d, false, true
	}
	if base, cut := strings.CutSuffix(name, HistorySuffix); cut {
		if d, ok := s.Dim(base); ok {
			return d, true, true
		}
	}
	return nil, false, false
}

// OrderTerm is one parsed dedup.order_by term.
type OrderTerm struct {
	Column string
	Desc   bool
}

// ParseOrderTerm parses "column", "column asc" or "column desc" (case-insensitive).
func ParseOrderTerm(s string) (OrderTerm, error) {
	f := strings.Fields(s)
	bad := fmt.Errorf("order_by term %q: use \"column\", \"column asc\" or \"column desc\"", s)
	if len(f) == 0 || len(f) > 2 || !IsIdent(f[0]) {
		return OrderTerm{}, bad
	}
	t := OrderTerm{Column: f[0]}
	if len(f) == 2 {
		switch strings.ToLower(f[1]) {
		case "asc":
		case "desc":
			t.Desc = true
		default:
			return OrderTerm{}, bad
		}
	}
	return t, nil
}

// Terms parses the dedup policy's order_by terms (terms that do not parse are
// skipped; Load rejects them).
func (d *Dedup) Terms() []OrderTerm {
	var out []OrderTerm
	for _, s := range d.OrderBy {
		if t, err := ParseOrderTerm(s); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// MaxIdentLen is the longest name a spec may use.
const MaxIdentLen = 64

// IsIdent reports whether s is a plain identifier (^[A-Za-z_][A-Za-z0-9_]*$, at
// most 64 characters): safe to put in SQL and paths without quoting surprises.
func IsIdent(s string) bool {
	if s == "" || len(s) > MaxIdentLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
