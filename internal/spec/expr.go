package spec

import (
	"errors"
	"fmt"
	"strings"
)

// tokKind classifies SQL tokens; the scanner knows just enough SQL to find
// statement boundaries, brackets and layer-qualified names.
type tokKind int

const (
	tokWord     tokKind = iota // bare identifier or keyword
	tokQuoted                  // "double-quoted identifier"
	tokString                  // 'string literal'
	tokNumber                  // 12, 1.5
	tokSymbol                  // one punctuation character: ( ) ; , . + ...
	tokTemplate                // {{ ... }} in SQL files
)

type token struct {
	kind tokKind
	text string // for tokQuoted: the unquoted name
	off  int    // byte offset in the source
}

type scanMode int

const (
	scanExpr scanMode = iota // a spec expression: comments are errors, no templates
	scanFile                 // a SQL file: comments skipped, {{ }} templates kept opaque
)

// scanSQL splits src into tokens. Quotes are escaped by doubling them (and by a
// backslash in E'...' strings).
func scanSQL(src string, mode scanMode) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			if mode == scanExpr {
				return nil, errors.New("contains a SQL comment (--)")
			}
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			if mode == scanExpr {
				return nil, errors.New("contains a SQL comment (/*)")
			}
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errors.New("has an unterminated /* comment")
			}
			i += 2 + end + 2
		case c == '{' && mode == scanFile && strings.HasPrefix(src[i:], "{{"):
			end := strings.Index(src[i+2:], "}}")
			if end < 0 {
				return nil, errors.New("has an unterminated {{ template action")
			}
			toks = append(toks, token{tokTemplate, src[i : i+2+end+2], i})
			i += 2 + end + 2
		case c == '\'':
			j, err := scanQuoted(src, i, '\'', false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, src[i:j], i})
			i = j
		case c == '"':
			j, err := scanQuoted(src, i, '"', false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokQuoted, strings.ReplaceAll(src[i+1:j-1], `""`, `"`), i})
			i = j
		case (c == 'e' || c == 'E') && i+1 < len(src) && src[i+1] == '\'':
			j, err := scanQuoted(src, i+1, '\'', true)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, src[i:j], i})
			i = j
		case isWordStart(c):
			j := i + 1
			for j < len(src) && isWordPart(src[j]) {
				j++
			}
			toks = append(toks, token{tokWord, src[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (isWordPart(src[j]) || src[j] == '.') {
				j++
			}
			toks = append(toks, token{tokNumber, src[i:j], i})
			i = j
		default:
			toks = append(toks, token{tokSymbol, src[i : i+1], i})
			i++
		}
	}
	return toks, nil
}

// scanQuoted returns the offset just past the quoted token starting at src[i].
func scanQuoted(src string, i int, q byte, backslash bool) (int, error) {
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
	if q == '"' {
		return 0, errors.New(`has an unterminated quoted identifier (")`)
	}
	return 0, errors.New("has an unterminated string literal (')")
}

func isWordStart(c byte) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80
}

func isWordPart(c byte) bool { return isWordStart(c) || (c >= '0' && c <= '9') || c == '$' }

// statementKeywords start statements; an expression never starts with one.
var statementKeywords = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "DROP": true,
	"CREATE": true, "ALTER": true, "ATTACH": true, "DETACH": true, "COPY": true,
	"PRAGMA": true, "INSTALL": true, "LOAD": true, "SET": true, "CALL": true,
	"EXPORT": true, "IMPORT": true, "WITH": true, "TRUNCATE": true, "VACUUM": true,
}

// CheckExpr reports whether src is a single SQL expression, as a column's expr or
// check and an enriched rule must be: not empty, no statement keyword first, no
// ";", no top-level ",", no comments, and balanced brackets and quotes. It is a
// guard against slips, not a full parser; DuckDB still parses the expression.
func CheckExpr(src string) error {
	toks, err := scanSQL(src, scanExpr)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return errors.New("is empty")
	}
	if t := toks[0]; t.kind == tokWord && statementKeywords[strings.ToUpper(t.text)] {
		return fmt.Errorf("starts with the statement keyword %s; write an expression, not a statement", strings.ToUpper(t.text))
	}
	closing := map[string]string{"(": ")", "[": "]", "{": "}"}
	var open []string
	for _, t := range toks {
		if t.kind != tokSymbol {
			continue
		}
		switch t.text {
		case ";":
			return errors.New(`contains ";": an expression cannot hold a statement`)
		case ",":
			if len(open) == 0 {
				return errors.New(`contains a top-level ",": write one expression`)
			}
		case "(", "[", "{":
			open = append(open, t.text)
		case ")", "]", "}":
			if len(open) == 0 || closing[open[len(open)-1]] != t.text {
				return fmt.Errorf("has unbalanced brackets: unexpected %q", t.text)
			}
			open = open[:len(open)-1]
		}
	}
	if len(open) > 0 {
		return fmt.Errorf("has unbalanced brackets: %q is never closed", open[len(open)-1])
	}
	return nil
}

// sqlRef is a layer-qualified name found in a SQL file.
type sqlRef struct {
	ref  Ref
	line int
	col  int
}

// sqlLayers are the names a SQL file may qualify a table with.
var sqlLayers = map[string]bool{"bronze": true, "silver": true, "dims": true, "enriched": true, "gold": true}

// scanRefs finds the layer-qualified names (silver.orders, "dims"."customers")
// that a SQL file reads.
func scanRefs(src string) ([]sqlRef, error) {
	toks, err := scanSQL(src, scanFile)
	if err != nil {
		return nil, err
	}
	name := func(t token) (string, bool) {
		switch t.kind {
		case tokWord:
			return strings.ToLower(t.text), true
		case tokQuoted:
			return t.text, true
		}
		return "", false
	}
	var refs []sqlRef
	for i := 0; i+2 < len(toks); i++ {
		l, ok := name(toks[i])
		if !ok || !sqlLayers[l] || toks[i+1].kind != tokSymbol || toks[i+1].text != "." {
			continue
		}
		if i > 0 && toks[i-1].kind == tokSymbol && toks[i-1].text == "." {
			continue // x.silver.y: silver is not the first part
		}
		n, ok := name(toks[i+2])
		if !ok {
			continue
		}
		line, col := lineCol(src, toks[i].off)
		refs = append(refs, sqlRef{Ref{l, n}, line, col})
	}
	return refs, nil
}

// lineCol converts a byte offset to a 1-based line and column (in bytes).
func lineCol(src string, off int) (int, int) {
	line := 1 + strings.Count(src[:off], "\n")
	col := off - strings.LastIndexByte(src[:off], '\n')
	return line, col
}
