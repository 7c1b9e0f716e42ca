// Package sqltext is the one SQL scanner of the worker: spec lint (single
// expressions, the layer-qualified names a SQL file reads) and warehouse
// rendering (binding those names to tables) split SQL text with it, so both see
// the same strings, quoted names and comments. It knows just enough SQL for
// that; DuckDB or BigQuery still parse the statement.
package sqltext

import (
	"errors"
	"strings"
)

// Kind classifies tokens.
type Kind int

// Token kinds.
const (
	Word     Kind = iota // bare identifier or keyword
	Quoted               // "double-quoted" or `backtick-quoted` identifier
	String               // 'string literal' or E'escape string'
	Number               // 12, 1.5
	Symbol               // one punctuation character: ( ) ; , . + ...
	Template             // {{ ... }} template action (Options.Templates)
)

// Token is one token of the source.
type Token struct {
	Kind Kind
	// Text is the token as written, except for Quoted: the unquoted name.
	Text string
	// Off and End are the byte offsets of the token in the source.
	Off, End int
	// Backtick marks a `backtick-quoted` name.
	Backtick bool
}

// Options say what the source is.
type Options struct {
	// NoComments makes a comment an error (a spec expression may not hide text
	// in one); otherwise comments are skipped.
	NoComments bool
	// Templates keeps {{ ... }} template actions as opaque Template tokens
	// (a spec SQL file before its macros are expanded).
	Templates bool
}

// Scan splits src into tokens. Strings are '...' with the quote doubled to
// escape it, or E'...' where a backslash also escapes; "names" escape a doubled
// quote; `names` (BigQuery) escape with a backslash or a doubled backtick.
// Dollar-quoted strings are not SQL the specs use and are not recognised.
func Scan(src string, o Options) ([]Token, error) {
	var toks []Token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			if o.NoComments {
				return nil, errors.New("contains a SQL comment (--)")
			}
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			if o.NoComments {
				return nil, errors.New("contains a SQL comment (/*)")
			}
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errors.New("has an unterminated /* comment")
			}
			i += 2 + end + 2
		case c == '{' && o.Templates && strings.HasPrefix(src[i:], "{{"):
			end := strings.Index(src[i+2:], "}}")
			if end < 0 {
				return nil, errors.New("has an unterminated {{ template action")
			}
			j := i + 2 + end + 2
			toks = append(toks, Token{Kind: Template, Text: src[i:j], Off: i, End: j})
			i = j
		case c == '\'':
			j, err := skipQuoted(src, i, '\'', false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, Token{Kind: String, Text: src[i:j], Off: i, End: j})
			i = j
		case (c == 'e' || c == 'E') && i+1 < len(src) && src[i+1] == '\'':
			j, err := skipQuoted(src, i+1, '\'', true)
			if err != nil {
				return nil, err
			}
			toks = append(toks, Token{Kind: String, Text: src[i:j], Off: i, End: j})
			i = j
		case c == '"':
			j, err := skipQuoted(src, i, '"', false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, Token{Kind: Quoted, Text: strings.ReplaceAll(src[i+1:j-1], `""`, `"`), Off: i, End: j})
			i = j
		case c == '`':
			j, err := skipQuoted(src, i, '`', true)
			if err != nil {
				return nil, err
			}
			toks = append(toks, Token{Kind: Quoted, Text: unescapeBacktick(src[i+1 : j-1]), Off: i, End: j, Backtick: true})
			i = j
		case isWordStart(c):
			j := i + 1
			for j < len(src) && isWordPart(src[j]) {
				j++
			}
			toks = append(toks, Token{Kind: Word, Text: src[i:j], Off: i, End: j})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (isWordPart(src[j]) || src[j] == '.') {
				j++
			}
			toks = append(toks, Token{Kind: Number, Text: src[i:j], Off: i, End: j})
			i = j
		default:
			toks = append(toks, Token{Kind: Symbol, Text: src[i : i+1], Off: i, End: i + 1})
			i++
		}
	}
	return toks, nil
}

// skipQuoted returns the offset just past the quoted token starting at src[i].
func skipQuoted(src string, i int, q byte, backslash bool) (int, error) {
	for j := i + 1; j < len(src); j++ {
		switch {
		case backslash && src[j] == '\\':
			j++
		case src[j] == q:
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	switch q {
	case '"':
		return 0, errors.New(`has an unterminated quoted identifier (")`)
	case '`':
		return 0, errors.New("has an unterminated quoted identifier (`)")
	}
	return 0, errors.New("has an unterminated string literal (')")
}

// unescapeBacktick undoes the escapes of a backtick-quoted name: “, \n, \r,
// \t, and \x for any other x (BigQuery knows a few more, which names never hold).
func unescapeBacktick(s string) string {
	if !strings.ContainsAny(s, "\\`") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
				continue
			case 'r':
				b.WriteByte('\r')
				continue
			case 't':
				b.WriteByte('\t')
				continue
			}
		case s[i] == '`' && i+1 < len(s) && s[i+1] == '`':
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isWordStart(c byte) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80
}

func isWordPart(c byte) bool { return isWordStart(c) || (c >= '0' && c <= '9') || c == '$' }

// Is reports whether the token is the symbol s.
func (t Token) Is(s string) bool { return t.Kind == Symbol && t.Text == s }

// Name is the identifier a Word or a "quoted" name spells (a bare word folded
// to lower case, as both warehouses compare names). A `backtick` name is not
// one: it is already a warehouse table path, bound by the dialect.
func (t Token) Name() (string, bool) {
	switch t.Kind {
	case Word:
		return strings.ToLower(t.Text), true
	case Quoted:
		if t.Backtick {
			return "", false
		}
		return t.Text, true
	}
	return "", false
}

// Ref is a two-part name first.second found in SQL text, such as silver.orders.
type Ref struct {
	// Qualifier and Name are the two parts, as Token.Name gives them.
	Qualifier, Name string
	// Off and End are the byte offsets of the whole name in the source.
	Off, End int
	// Last is the index of the name's last token in the scanned tokens.
	Last int
	// Column marks a name followed by another ".part" (silver.orders.col): it
	// qualifies a column rather than naming a table.
	Column bool
}

// Refs finds the names qualifier.name whose qualifier is one that isQualifier
// accepts (the layers) and that are not themselves the tail of a longer name
// (x.silver.y is not a reference to silver.y).
func Refs(toks []Token, isQualifier func(string) bool) []Ref {
	var refs []Ref
	for i := 0; i+2 < len(toks); i++ {
		q, ok := toks[i].Name()
		if !ok || !isQualifier(q) || !toks[i+1].Is(".") {
			continue
		}
		if i > 0 && toks[i-1].Is(".") {
			continue
		}
		n, ok := toks[i+2].Name()
		if !ok {
			continue
		}
		col := i+3 < len(toks) && toks[i+3].Is(".")
		refs = append(refs, Ref{Qualifier: q, Name: n, Off: toks[i].Off, End: toks[i+2].End, Last: i + 2, Column: col})
		i += 2
	}
	return refs
}

// LineCol converts a byte offset to a 1-based line and column (in bytes).
func LineCol(src string, off int) (int, int) {
	line := 1 + strings.Count(src[:off], "\n")
	col := off - strings.LastIndexByte(src[:off], '\n')
	return line, col
}
