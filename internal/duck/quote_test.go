package duck

import (
	"context"
	"strings"
	"testing"
)

// The quoting helpers are what stand between spec names and values and the SQL text:
// each case is rendered, then round-tripped through real DuckDB, which must hand back
// the very name or value (so a quote cannot end the literal early).
func TestQuoting(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		name      string
		in        string
		wantIdent string
		wantStr   string
	}{
		{"plain", "orders", `"orders"`, `'orders'`},
		{"empty", "", `""`, `''`},
		{"double quote", `a"b`, `"a""b"`, `'a"b'`},
		{"single quote", "o'brien", `"o'brien"`, `'o''brien'`},
		{"only quotes", `"'"`, `"""'"""`, `'"''"'`},
		{"injection", `x"; DROP TABLE t; --`, `"x""; DROP TABLE t; --"`, `'x"; DROP TABLE t; --'`},
		{"literal injection", `x'); DROP TABLE t; --`, `"x'); DROP TABLE t; --"`, `'x''); DROP TABLE t; --'`},
		{"backslash is not an escape", `a\'b`, `"a\'b"`, `'a\''b'`},
		{"spaces and dots", "order items.v2", `"order items.v2"`, `'order items.v2'`},
		{"reserved word", "select", `"select"`, `'select'`},
		{"unicode", "café_日本_🙂", `"café_日本_🙂"`, `'café_日本_🙂'`},
		{"newline and tab", "a\nb\tc", "\"a\nb\tc\"", "'a\nb\tc'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Ident(c.in); got != c.wantIdent {
				t.Errorf("Ident(%q) = %s, want %s", c.in, got, c.wantIdent)
			}
			if got := Str(c.in); got != c.wantStr {
				t.Errorf("Str(%q) = %s, want %s", c.in, got, c.wantStr)
			}
			var got string
			if err := s.Conn.QueryRowContext(ctx, "SELECT "+Str(c.in)).Scan(&got); err != nil || got != c.in {
				t.Errorf("SELECT %s = %q (%v), want %q", Str(c.in), got, err, c.in)
			}
			if c.in == "" {
				return // DuckDB refuses a zero-length identifier; Ident quotes it all the same
			}
			rows, err := s.Conn.QueryContext(ctx, "SELECT 1 AS "+Ident(c.in))
			if err != nil {
				t.Fatalf("SELECT 1 AS %s: %v", Ident(c.in), err)
			}
			cols, err := rows.Columns()
			rows.Close()
			if err != nil || len(cols) != 1 || cols[0] != c.in {
				t.Errorf("column of SELECT 1 AS %s = %q (%v), want %q", Ident(c.in), cols, err, c.in)
			}
		})
	}
}

// NUL is rendered verbatim: the helpers quote, they do not validate (spec names are
// checked by internal/spec; values come from the lake).
func TestQuotingNUL(t *testing.T) {
	if got, want := Ident("a\x00b"), "\"a\x00b\""; got != want {
		t.Errorf("Ident = %q, want %q", got, want)
	}
	if got, want := Str("a\x00'b"), "'a\x00''b'"; got != want {
		t.Errorf("Str = %q, want %q", got, want)
	}
}

func TestStrList(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		name string
		in   []string
		want string
	}{
		{"none", nil, "[]"},
		{"one", []string{"a"}, "['a']"},
		{"several", []string{"a", "b", "c"}, "['a', 'b', 'c']"},
		{"quotes and commas", []string{"o'b", "x, y", `"z"`}, `['o''b', 'x, y', '"z"']`},
		{"empty and unicode", []string{"", "ü"}, "['', 'ü']"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := StrList(c.in)
			if got != c.want {
				t.Fatalf("StrList(%q) = %s, want %s", c.in, got, c.want)
			}
			// DuckDB reads it back as the same list, element by element.
			q := "SELECT CAST(unnest(CAST(" + got + " AS VARCHAR[])) AS VARCHAR)"
			rows, err := s.Conn.QueryContext(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			defer rows.Close()
			var back []string
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				back = append(back, v)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(back, "\x1f") != strings.Join(c.in, "\x1f") || len(back) != len(c.in) {
				t.Errorf("DuckDB read %s back as %q, want %q", got, back, c.in)
			}
		})
	}
}
