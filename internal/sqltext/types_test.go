package sqltext

import "testing"

func TestParseType(t *testing.T) {
	tests := []struct {
		in, want string
		family   Family
		spec     bool
	}{
		{"varchar", "VARCHAR", Text, true},
		{" Text ", "TEXT", Text, true},
		{"STRING", "STRING", Text, false},
		{"decimal( 12 , 2 )", "DECIMAL(12,2)", Decimal, true},
		{"DECIMAL(38,38)", "DECIMAL(38,38)", Decimal, true},
		{"NUMERIC(10,0)", "NUMERIC(10,0)", Decimal, false},
		{"ubigint", "UBIGINT", Integer, true},
		{"INT64", "INT64", Integer, false},
		{"double", "DOUBLE", Float, true},
		{"timestamp with time zone", "TIMESTAMP WITH TIME ZONE", Timestamp, false},
		{"TIMESTAMPTZ", "TIMESTAMPTZ", Timestamp, true},
		{"json", "JSON", JSON, true},
		{"bytes", "BYTES", Blob, false},
	}
	for _, tc := range tests {
		typ, err := ParseType(tc.in)
		if err != nil || typ.String() != tc.want || typ.Family() != tc.family || typ.Spec() != tc.spec {
			t.Errorf("ParseType(%q) = %s %s spec=%v, %v; want %s %s spec=%v", tc.in, typ, typ.Family(), typ.Spec(), err, tc.want, tc.family, tc.spec)
		}
	}
	for in, msg := range map[string]string{
		"":              `unknown type ""`,
		"VARCHAR(10)":   `unknown type "VARCHAR(10)"`,
		"INTEGER[]":     `unknown type "INTEGER[]"`,
		"DECIMAL":       `unknown type "DECIMAL": write DECIMAL(precision,scale), e.g. DECIMAL(12,2)`,
		"DECIMAL(0,0)":  `type "DECIMAL(0,0)": DECIMAL precision must be between 1 and 38`,
		"DECIMAL(39,2)": `type "DECIMAL(39,2)": DECIMAL precision must be between 1 and 38`,
		"DECIMAL(5,6)":  `type "DECIMAL(5,6)": DECIMAL scale must be between 0 and the precision (5)`,
	} {
		if _, err := ParseType(in); err == nil || err.Error() != msg {
			t.Errorf("ParseType(%q) error = %v, want %s", in, err, msg)
		}
	}
	// Every name a spec may use parses as a spec type.
	for _, n := range SpecTypeNames() {
		if typ, err := ParseType(n); err != nil || !typ.Spec() || typ.String() != n {
			t.Errorf("spec type %s: %v, %v", n, typ, err)
		}
	}
	if FamilyOf("nonsense") != 0 || FamilyOf("date") != Date {
		t.Error("FamilyOf")
	}
}
