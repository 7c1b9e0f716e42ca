package spec

import (
	"reflect"
	"testing"
)

func TestCheckExpr(t *testing.T) {
	tests := []struct {
		expr string
		want string // "" for a valid expression
	}{
		{"total_amount >= 0", ""},
		{"a = 'x;y'", ""},
		{`"weird;name" > 0`, ""},
		{"status IN ('a', 'b')", ""},
		{"coalesce(a, b) [1] = {'k': 1}['k']", ""},
		{"x = 'it''s'", ""},
		{`x = E'it\'s; fine'`, ""},
		{"`odd,name` > 0", ""}, // a backtick name is one token, as rendering sees it
		{"`abc = 1", "has an unterminated quoted identifier (`)"},
		{"try_strptime(order_ts, '%Y-%m-%dT%H:%M:%SZ')", ""},
		{"CASE WHEN a THEN 1 ELSE 2 END", ""},
		{"x > 0; DROP TABLE t", `contains ";": an expression cannot hold a statement`},
		{"x > 0;", `contains ";": an expression cannot hold a statement`},
		{"DROP TABLE t", "starts with the statement keyword DROP; write an expression, not a statement"},
		{"select 1", "starts with the statement keyword SELECT; write an expression, not a statement"},
		{"attach 'x.db'", "starts with the statement keyword ATTACH; write an expression, not a statement"},
		{"x > 0 -- note", "contains a SQL comment (--)"},
		{"x /* note */ > 0", "contains a SQL comment (/*)"},
		{"(x > 0", `has unbalanced brackets: "(" is never closed`},
		{"x > 0)", `has unbalanced brackets: unexpected ")"`},
		{"f(x]", `has unbalanced brackets: unexpected "]"`},
		{"x = 'abc", "has an unterminated string literal (')"},
		{`"abc = 1`, `has an unterminated quoted identifier (")`},
		{"a, b", `contains a top-level ",": write one expression`},
		{"   ", "is empty"},
	}
	for _, tt := range tests {
		err := CheckExpr(tt.expr)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckExpr(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestScanRefs(t *testing.T) {
	src := `-- silver.ignored in a comment
SELECT s.x, 'dims.not_a_ref', t.silver.y
FROM silver.orders s
JOIN "dims"."customers_history" d ON {{ date_trunc "month" "s.silver.z" }} = d.m
JOIN Enriched.LTV /* gold.nope */ e ON true`
	refs, err := scanRefs(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []sqlRef{
		{Ref{"silver", "orders"}, 3, 6},
		{Ref{"dims", "customers_history"}, 4, 6},
		{Ref{"enriched", "ltv"}, 5, 6},
	}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("scanRefs = %+v\nwant %+v", refs, want)
	}
}

func TestNormalizeType(t *testing.T) {
	for in, want := range map[string]string{
		"varchar": "VARCHAR", " Timestamptz ": "TIMESTAMPTZ", "decimal( 12 , 2 )": "DECIMAL(12,2)",
		"DECIMAL(38,38)": "DECIMAL(38,38)", "ubigint": "UBIGINT", "json": "JSON",
	} {
		if got, err := NormalizeType(in); err != nil || got != want {
			t.Errorf("NormalizeType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "STRING", "DECIMAL", "DECIMAL(0,0)", "DECIMAL(39,2)", "DECIMAL(5,6)", "VARCHAR(10)", "INTEGER[]"} {
		if got, err := NormalizeType(in); err == nil {
			t.Errorf("NormalizeType(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]string{"24h": "24h0m0s", "1d": "24h0m0s", "7d": "168h0m0s", "1d12h": "36h0m0s", "90m": "1h30m0s"} {
		if got, err := ParseAge(in); err != nil || got.String() != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "1 day", "1.5d", "soon"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) succeeded, want an error", in)
		}
	}
}

func TestIdentAndRefs(t *testing.T) {
	long := "a123456789012345678901234567890123456789012345678901234567890123" // 64
	for s, want := range map[string]bool{
		"orders": true, "_x1": true, "Orders_2": true, long: true, long + "4": false,
		"": false, "1x": false, "a-b": false, "a b": false, "orders; DROP TABLE x": false, "é": false,
	} {
		if got := IsIdent(s); got != want {
			t.Errorf("IsIdent(%q) = %v, want %v", s, got, want)
		}
	}
	if r, err := ParseRef("dims.customers_history"); err != nil || r != (Ref{"dims", "customers_history"}) || r.String() != "dims.customers_history" {
		t.Errorf("ParseRef = %v, %v", r, err)
	}
	for _, s := range []string{"orders", "silver.", ".x", "silver.a.b", "silver.a;b"} {
		if _, err := ParseRef(s); err == nil {
			t.Errorf("ParseRef(%q) succeeded", s)
		}
	}
	if ot, err := ParseOrderTerm(" updated_at  DESC "); err != nil || ot != (OrderTerm{"updated_at", true}) {
		t.Errorf("ParseOrderTerm = %v, %v", ot, err)
	}
}
