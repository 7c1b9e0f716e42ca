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
	PartitionKey string        `yaml:"partition_key"`
	Tables       []BronzeTable `yaml:"tables"`
}

// BronzeTable is one upstream table and the columns its files must carry.
type BronzeTable struct {
	Name    string   `yaml:"name" spec:"required"`
	Columns []Column `yaml:"columns" spec:"required"`
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
}

// ForeignKey says Column must exist in References ("table.column", a base-silver table).
type ForeignKey struct {
	Column     string `yaml:"column" spec:"required"`
	References string `yaml:"references" spec:"required"`
}

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
	Name         string   `yaml:"name" spec:"required"`
	SQL          string   `yaml:"sql" spec:"required"`
	DependsOn    []string `yaml:"depends_on"`
	PartitionKey string   `yaml:"partition_key"`
	Checks       Checks   `yaml:"checks"`
	Description  string   `yaml:"description"`
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
	Name        string   `yaml:"name" spec:"required"`
	SQL         string   `yaml:"sql" spec:"required"`
	DependsOn   []string `yaml:"depends_on"`
	PartitionBy string   `yaml:"partition_by"`
	ClusterBy   []string `yaml:"cluster_by"`
	SCD2        bool     `yaml:"scd2"`
	Description string   `yaml:"description"`
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
	// Tables overrides resources, retries and pool for the tasks of one table,
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

// ParentColumn is the referenced column of a foreign key.
func (f ForeignKey) ParentColumn() string {
	_, c := splitRef(f.References)
	return c
}

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

// Refs parses the transform's depends_on (entries that do not parse are skipped;
// Load rejects them).
func (t *Transform) Refs() []Ref { return parseRefs(t.DependsOn) }

// Refs parses the mart's depends_on (entries that do not parse are skipped;
// Load rejects them).
func (m *Mart) Refs() []Ref { return parseRefs(m.DependsOn) }

func parseRefs(ss []string) []Ref {
	var out []Ref
	for _, s := range ss {
		if r, err := ParseRef(s); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// HistorySuffix marks the dims name that binds every snapshot of a dim (dims.<dim>_history).
const HistorySuffix = "_history"

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
