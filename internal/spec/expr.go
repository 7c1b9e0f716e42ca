package spec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shoplake/lakehouse/internal/sqltext"
)

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
	toks, err := sqltext.Scan(src, sqltext.Options{NoComments: true})
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return errors.New("is empty")
	}
	if t := toks[0]; t.Kind == sqltext.Word && statementKeywords[strings.ToUpper(t.Text)] {
		return fmt.Errorf("starts with the statement keyword %s; write an expression, not a statement", strings.ToUpper(t.Text))
	}
	closing := map[string]string{"(": ")", "[": "]", "{": "}"}
	var open []string
	for _, t := range toks {
		if t.Kind != sqltext.Symbol {
			continue
		}
		switch t.Text {
		case ";":
			return errors.New(`contains ";": an expression cannot hold a statement`)
		case ",":
			if len(open) == 0 {
				return errors.New(`contains a top-level ",": write one expression`)
			}
		case "(", "[", "{":
			open = append(open, t.Text)
		case ")", "]", "}":
			if len(open) == 0 || closing[open[len(open)-1]] != t.Text {
				return fmt.Errorf("has unbalanced brackets: unexpected %q", t.Text)
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
	toks, err := sqltext.Scan(src, sqltext.Options{Templates: true})
	if err != nil {
		return nil, err
	}
	var refs []sqlRef
	for _, r := range sqltext.Refs(toks, func(q string) bool { return sqlLayers[q] }) {
		line, col := sqltext.LineCol(src, r.Off)
		refs = append(refs, sqlRef{Ref{r.Qualifier, r.Name}, line, col})
	}
	return refs, nil
}

// reaching lists what in spec SQL (an expression, or a SQL file with templates)
// reaches beyond the data its task is given (sqltext.Reaching); a source that does
// not scan was reported already.
func reaching(src string, templates bool) []sqltext.Finding {
	toks, err := sqltext.Scan(src, sqltext.Options{Templates: templates})
	if err != nil {
		return nil
	}
	return sqltext.Reaching(toks)
}
