package sqltext

import (
	"fmt"
	"strings"
	"testing"
)

// show renders tokens compactly: kind:text per token.
func show(toks []Token) string {
	names := map[Kind]string{Word: "w", Quoted: "q", String: "s", Number: "n", Symbol: "y", Template: "t"}
	var parts []string
	for _, t := range toks {
		k := names[t.Kind]
		if t.Backtick {
			k = "bq"
		}
		parts = append(parts, fmt.Sprintf("%s:%s", k, t.Text))
	}
	return strings.Join(parts, " ")
}

func TestScan(t *testing.T) {
	tests := []struct {
		name, src string
		o         Options
		want, err string
	}{
		{"words and symbols", "a.b >= 1.5", Options{}, "w:a y:. w:b y:> y:= n:1.5", ""},
		{"doubled quote", "'it''s' x", Options{}, "s:'it''s' w:x", ""},
		// The lint scanner knew E'...' and the render scanner did not: it ended the
		// string at \' and saw silver.orders as a name.
		{"escape string", `E'it\'s silver.orders' x`, Options{}, `s:E'it\'s silver.orders' w:x`, ""},
		{"backslash is literal in a plain string", `'a\' x`, Options{}, `s:'a\' w:x`, ""},
		{"double-quoted name", `"we""ird".x`, Options{}, `q:we"ird y:. w:x`, ""},
		// The render scanner knew backticks and the lint scanner did not: it saw
		// the comma inside as a top-level one.
		{"backtick name", "`p-1.gold.a,b` x", Options{}, "bq:p-1.gold.a,b w:x", ""},
		{"backtick escapes", "`a\\`b``c` x", Options{}, "bq:a`b`c w:x", ""},
		{"comments skipped", "a -- b 'c\n/* d\n */ e", Options{}, "w:a w:e", ""},
		{"templates opaque", `x = {{ date_trunc "month" "a;b" }}`, Options{Templates: true}, `w:x y:= t:{{ date_trunc "month" "a;b" }}`, ""},
		{"braces without templates", "{{", Options{}, "y:{ y:{", ""},
		{"no comments", "a -- b", Options{NoComments: true}, "", "contains a SQL comment (--)"},
		{"no block comments", "a /* b */", Options{NoComments: true}, "", "contains a SQL comment (/*)"},
		{"unterminated comment", "a /* b", Options{}, "", "has an unterminated /* comment"},
		{"unterminated string", "'abc", Options{}, "", "has an unterminated string literal (')"},
		{"unterminated escape string", `E'abc\'`, Options{}, "", "has an unterminated string literal (')"},
		{"unterminated name", `"abc`, Options{}, "", `has an unterminated quoted identifier (")`},
		{"unterminated backtick", "`abc", Options{}, "", "has an unterminated quoted identifier (`)"},
		{"unterminated template", "{{ x", Options{Templates: true}, "", "has an unterminated {{ template action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			toks, err := Scan(tc.src, tc.o)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.err {
				t.Fatalf("Scan(%q) error = %q, want %q", tc.src, gotErr, tc.err)
			}
			if got := show(toks); got != tc.want {
				t.Errorf("Scan(%q) = %s\nwant %s", tc.src, got, tc.want)
			}
			for _, tk := range toks {
				if tk.Kind != Quoted && tc.src[tk.Off:tk.End] != tk.Text {
					t.Errorf("token %q has offsets %d..%d spelling %q", tk.Text, tk.Off, tk.End, tc.src[tk.Off:tk.End])
				}
			}
		})
	}
}

func TestRefs(t *testing.T) {
	layers := func(q string) bool { return q == "silver" || q == "dims" }
	tests := []struct{ src, want string }{
		{"FROM silver.orders o", "silver.orders@5-18"},
		{`JOIN "dims"."Customers" d`, "dims.Customers@5-23"},
		{"FROM Silver.Orders", "silver.orders@5-18"},
		{"WHERE silver.orders.id = 1", "silver.orders@6-19+col"},
		{"SELECT t.silver.y, x.dims.z", ""},
		{"SELECT 'silver.orders', E'\\' silver.x', `silver`.y, gold.x", ""},
		{"FROM silver.a JOIN dims.b", "silver.a@5-13 dims.b@19-25"},
	}
	for _, tc := range tests {
		toks, err := Scan(tc.src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, r := range Refs(toks, layers) {
			p := fmt.Sprintf("%s.%s@%d-%d", r.Qualifier, r.Name, r.Off, r.End)
			if r.Column {
				p += "+col"
			}
			parts = append(parts, p)
		}
		if got := strings.Join(parts, " "); got != tc.want {
			t.Errorf("Refs(%q) = %q, want %q", tc.src, got, tc.want)
		}
	}
}

func TestDialectTable(t *testing.T) {
	tests := []struct {
		d                   Dialect
		dataset, name, want string
	}{
		{DuckDB{}, "silver", "orders", `"silver"."orders"`},
		{DuckDB{}, `we"ird`, "x", `"we""ird"."x"`},
		{BigQuery{Project: "p-1"}, "silver", "orders", "`p-1.silver.orders`"},
		{BigQuery{Project: "example.com:p"}, "gold", "m", "`example.com:p.gold.m`"},
		// Before, the project went into the path unescaped: a backtick ended it.
		{BigQuery{Project: "p`; DROP"}, "gold", "m", "`p\\`; DROP.gold.m`"},
		{BigQuery{Project: `p\`}, "gold", "m", "`p\\\\.gold.m`"},
		{BigQuery{Project: "p"}, "gold", "a`b\nc", "`p.gold.a\\`b\\nc`"},
		{BigQuery{Project: "p"}, "gold", "a.b", "`p`.`gold`.`a.b`"},
	}
	for _, tc := range tests {
		got := tc.d.Table(tc.dataset, tc.name)
		if got != tc.want {
			t.Errorf("%s Table(%q, %q) = %s, want %s", tc.d.Name(), tc.dataset, tc.name, got, tc.want)
		}
		// The scanner reads the rendering back as the names it was given.
		toks, err := Scan("FROM "+got, Options{})
		if err != nil {
			t.Errorf("scan %s: %v", got, err)
			continue
		}
		var parts []string
		for _, tk := range toks[1:] {
			if tk.Kind == Quoted {
				parts = append(parts, tk.Text)
			}
		}
		if tc.d.Name() == NameDuckDB || strings.Contains(tc.name, ".") {
			if want := []string{tc.dataset, tc.name}; strings.Join(parts[len(parts)-2:], "|") != strings.Join(want, "|") {
				t.Errorf("scan %s = %q, want the parts %q", got, parts, want)
			}
		} else if want := tc.d.(BigQuery).Project + "." + tc.dataset + "." + tc.name; len(parts) != 1 || parts[0] != want {
			t.Errorf("scan %s = %q, want %q", got, parts, want)
		}
	}
}

func TestParseDialect(t *testing.T) {
	for _, name := range []string{NameDuckDB, NameBigQuery} {
		d, err := ParseDialect(name, "p")
		if err != nil || d.Name() != name {
			t.Errorf("ParseDialect(%q) = %v, %v", name, d, err)
		}
	}
	if bq, _ := ParseDialect(NameBigQuery, "proj"); bq.Table("gold", "m") != "`proj.gold.m`" {
		t.Errorf("bigquery dialect lost its project: %s", bq.Table("gold", "m"))
	}
	if _, err := ParseDialect("postgres", ""); err == nil {
		t.Error("ParseDialect(postgres) succeeded")
	}
}
