// Package spec loads and validates pipeline specs (DESIGN section 4): the YAML
// file, the SQL files it names, and the task graph they imply.
package spec

// Spec is a loaded, validated pipeline spec.
type Spec struct {
	Pipeline   string     `yaml:"pipeline"`
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
}

// Bronze describes the raw, upstream-written layer.
type Bronze struct {
	// PartitionKey names the partition folder key (default ingest_dt).
	PartitionKey string        `yaml:"partition_key"`
	Tables       []BronzeTable `yaml:"tables"`
}

// BronzeTable is one upstream table and the columns its files must carry.
type BronzeTable struct {
	Name    string   `yaml:"name"`
	Columns []Column `yaml:"columns"`
}

// Column is a named, typed column. Types are DuckDB type names.
type Column struct {
	Name           string   `yaml:"name"`
	Type           string   `yaml:"type"`
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
	Name         string       `yaml:"name"`
	Source       string       `yaml:"source"`
	PartitionKey string       `yaml:"partition_key"`
	PrimaryKey   []string     `yaml:"primary_key"`
	Dedup        *Dedup       `yaml:"dedup"`
	Columns      []Column     `yaml:"columns"`
	ForeignKeys  []ForeignKey `yaml:"foreign_keys"`
	Thresholds   Thresholds   `yaml:"thresholds"`
	Description  string       `yaml:"description"`
}

// Dedup chooses which row of a duplicated primary key survives.
type Dedup struct {
	// OrderBy is a list of "column [asc|desc]" terms over silver columns.
	OrderBy []string `yaml:"order_by"`
}

// ForeignKey says Column must exist in References ("table.column", a base-silver table).
type ForeignKey struct {
	Column     string `yaml:"column"`
	References string `yaml:"references"`
}

// Thresholds bound what a silver gate accepts.
type Thresholds struct {
	MaxQuarantineRate *float64 `yaml:"max_quarantine_rate"`
	MaxRowLoss        *float64 `yaml:"max_row_loss"`
}

// Dim is a dimension snapshot of a base-silver table.
type Dim struct {
	Name   string `yaml:"name"`
	Source string `yaml:"source"`
	MaxAge string `yaml:"max_age"`
}

// Enriched holds SQL transforms over silver and dims.
type Enriched struct {
	Transforms []Transform `yaml:"transforms"`
}

// Transform is one enriched SQL transform.
type Transform struct {
	Name         string   `yaml:"name"`
	SQL          string   `yaml:"sql"`
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
	Name        string   `yaml:"name"`
	SQL         string   `yaml:"sql"`
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
