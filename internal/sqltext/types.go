package sqltext

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Family groups the column types that behave alike: what a value looks like,
// which warehouse type holds it.
type Family int

// Type families.
const (
	Text Family = iota + 1
	Boolean
	Integer
	Float
	Decimal
	Date
	Timestamp
	Time
	Interval
	UUID
	JSON
	Blob
)

// String is the family's name in lower case: text, boolean, integer, ...
func (f Family) String() string {
	names := []string{"", "text", "boolean", "integer", "float", "decimal", "date", "timestamp", "time", "interval", "uuid", "json", "blob"}
	if f > 0 && int(f) < len(names) {
		return names[f]
	}
	return fmt.Sprintf("family(%d)", int(f))
}

// Type is a DuckDB column type: one model of the type names specs, manifests
// and the warehouses use.
type Type struct {
	// Name is the type name in upper case as written (TEXT stays TEXT), without
	// the DECIMAL parameters.
	Name string
	// Precision and Scale are DECIMAL's (and NUMERIC's).
	Precision, Scale int
	family           Family
	spec             bool
}

// typeName is one known type name.
type typeName struct {
	family Family
	// spec: a spec column may use it (the rest are aliases DuckDB, manifests or
	// BigQuery write, which a spec spells the DuckDB way).
	spec bool
}

// typeNames are the type names known besides DECIMAL(p,s) and NUMERIC(p,s).
func typeNames() map[string]typeName {
	return map[string]typeName{
		"VARCHAR": {Text, true}, "TEXT": {Text, true}, "STRING": {Text, false},
		"BOOLEAN": {Boolean, true}, "BOOL": {Boolean, false},
		"TINYINT": {Integer, true}, "SMALLINT": {Integer, true}, "INTEGER": {Integer, true},
		"BIGINT": {Integer, true}, "HUGEINT": {Integer, true},
		"UTINYINT": {Integer, true}, "USMALLINT": {Integer, true}, "UINTEGER": {Integer, true},
		"UBIGINT": {Integer, true}, "INT": {Integer, false}, "INT64": {Integer, false},
		"FLOAT": {Float, true}, "REAL": {Float, true}, "DOUBLE": {Float, true}, "FLOAT64": {Float, false},
		"DATE":      {Date, true},
		"TIMESTAMP": {Timestamp, true}, "TIMESTAMPTZ": {Timestamp, true},
		"TIMESTAMP WITH TIME ZONE": {Timestamp, false}, "DATETIME": {Timestamp, false},
		"TIME": {Time, true}, "INTERVAL": {Interval, true},
		"UUID": {UUID, true}, "JSON": {JSON, true},
		"BLOB": {Blob, true}, "BYTES": {Blob, false},
	}
}

// SpecTypeNames lists the type names a spec column may use besides
// DECIMAL(p,s), in the order messages show them.
func SpecTypeNames() []string {
	return []string{
		"VARCHAR", "TEXT", "BOOLEAN",
		"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
		"FLOAT", "REAL", "DOUBLE",
		"DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIME", "INTERVAL",
		"UUID", "BLOB", "JSON",
	}
}

var decimalRE = regexp.MustCompile(`^(DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$`)

// ParseType reads a DuckDB type name, case-insensitively: a name of
// SpecTypeNames, an alias (STRING, INT, BOOL, TIMESTAMP WITH TIME ZONE, ...) or
// DECIMAL(p,s) with 1 <= p <= 38 and 0 <= s <= p.
func ParseType(s string) (Type, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if n, ok := typeNames()[u]; ok {
		return Type{Name: u, family: n.family, spec: n.spec}, nil
	}
	if m := decimalRE.FindStringSubmatch(u); m != nil {
		p, errP := strconv.Atoi(m[2])
		sc, errS := strconv.Atoi(m[3])
		if errP != nil || p < 1 || p > 38 {
			return Type{}, fmt.Errorf("type %q: DECIMAL precision must be between 1 and 38", s)
		}
		if errS != nil || sc > p {
			return Type{}, fmt.Errorf("type %q: DECIMAL scale must be between 0 and the precision (%d)", s, p)
		}
		return Type{Name: m[1], Precision: p, Scale: sc, family: Decimal, spec: m[1] == "DECIMAL"}, nil
	}
	if strings.HasPrefix(u, "DECIMAL") || strings.HasPrefix(u, "NUMERIC") {
		return Type{}, fmt.Errorf("unknown type %q: write DECIMAL(precision,scale), e.g. DECIMAL(12,2)", s)
	}
	return Type{}, fmt.Errorf("unknown type %q", s)
}

// String is the canonical spelling: upper case, DECIMAL(12,2) without spaces.
func (t Type) String() string {
	if t.family == Decimal {
		return fmt.Sprintf("%s(%d,%d)", t.Name, t.Precision, t.Scale)
	}
	return t.Name
}

// Family is the type's family.
func (t Type) Family() Family { return t.family }

// Spec reports whether a spec column may be declared with this type (the
// DuckDB spelling, not an alias).
func (t Type) Spec() bool { return t.spec }

// FamilyOf is the family of a type name, or 0 when ParseType rejects it.
func FamilyOf(s string) Family {
	t, err := ParseType(s)
	if err != nil {
		return 0
	}
	return t.family
}
