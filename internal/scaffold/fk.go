package scaffold

import (
	"context"
	"fmt"
	"strings"

	"github.com/shoplake/lakehouse/internal/spec"
)

// foreignKey is a candidate foreign key of a scaffolded table.
type foreignKey struct {
	column, parent, parentColumn string
	// live ones are emitted; the others are commented, with why.
	live bool
	why  string
}

// parentKey is a single-column primary key another table may reference.
type parentKey struct {
	table, column, typ string
	// t is set for a table scaffolded in the same run (its values can be checked).
	t *table
}

// findForeignKeys looks for columns of t whose every value is a key of another
// table scaffolded with it. A candidate is emitted when the column's name also
// names the parent (order_id -> orders.id), and commented otherwise: small
// integer ids are often contained in one another by coincidence. Tables of the
// existing spec (--into) are matched by name only, commented, since their data
// is not at hand.
func (sc *scaffolder) findForeignKeys(ctx context.Context, t *table, parents []parentKey) error {
	for _, c := range t.columns {
		if len(t.pk) == 1 && t.pk[0] == c.name || c.nonNull == 0 || !fkType(c.silverType) {
			continue
		}
		var cands []foreignKey
		for _, p := range parents {
			if p.table == t.name || !strings.EqualFold(p.typ, c.silverType) {
				continue
			}
			named := namesParent(c.name, p.table, p.column)
			if p.t == nil {
				if named {
					cands = append(cands, foreignKey{column: c.name, parent: p.table, parentColumn: p.column,
						why: fmt.Sprintf("GUESS by name: %s is in the spec already, its data was not checked", p.table)})
				}
				continue
			}
			missing, err := sc.orphans(ctx, t, c, p)
			if err != nil {
				return err
			}
			switch {
			case missing == 0 && named:
				cands = append(cands, foreignKey{column: c.name, parent: p.table, parentColumn: p.column, live: true,
					why: fmt.Sprintf("every %s is found in %s.%s, and the name says so", c.name, p.table, p.column)})
			case missing == 0:
				cands = append(cands, foreignKey{column: c.name, parent: p.table, parentColumn: p.column,
					why: fmt.Sprintf("GUESS: every %s is found in %s.%s, but the names do not match (small ids often are by coincidence): uncomment if %s means a %s", c.name, p.table, p.column, c.name, singular(p.table))})
			case named:
				cands = append(cands, foreignKey{column: c.name, parent: p.table, parentColumn: p.column,
					why: fmt.Sprintf("GUESS by name, but %d distinct %s value(s) are not in %s.%s and would be quarantined as fk_orphan", missing, c.name, p.table, p.column)})
			}
		}
		// One live key per column: keep the first, comment the other named ones and
		// drop the coincidences.
		liveSeen := false
		for _, fk := range cands {
			liveSeen = liveSeen || fk.live
		}
		kept := cands[:0]
		for _, fk := range cands {
			switch {
			case fk.live && kept != nil && hasLive(kept):
				fk.live = false
				fk.why = "GUESS: " + fk.why + "; another parent was chosen above"
			case liveSeen && !fk.live && !namesParent(c.name, fk.parent, fk.parentColumn):
				continue
			}
			kept = append(kept, fk)
		}
		cands = kept
		t.fks = append(t.fks, cands...)
	}
	return nil
}

func hasLive(fks []foreignKey) bool {
	for _, fk := range fks {
		if fk.live {
			return true
		}
	}
	return false
}

// fkType: types a foreign key is made of.
func fkType(typ string) bool {
	return typ == "INTEGER" || typ == "BIGINT" || typ == "VARCHAR" || typ == "DECIMAL(38,0)"
}

// namesParent reports whether a column's name refers to a table: customer_id,
// customers_id or customer to customers.id; or the parent key's own name.
func namesParent(col, parentTable, parentCol string) bool {
	l := strings.ToLower(col)
	if l == strings.ToLower(parentCol) && strings.ToLower(parentCol) != "id" {
		return true
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(l, "id"), "_")
	if stem == "" {
		return false
	}
	pt := strings.ToLower(parentTable)
	return stem == pt || stem == singular(pt) || strings.HasSuffix(stem, "_"+singular(pt)) || strings.HasSuffix(stem, "_"+pt)
}

// orphans counts the distinct non-null values of c that are not keys of p, both
// typed as silver will type them.
func (sc *scaffolder) orphans(ctx context.Context, t *table, c *column, p parentKey) (int64, error) {
	pc := p.t.column(p.column)
	child := fmt.Sprintf("TRY_CAST(%s AS %s)", cleaned(c.name, t.tokenValues()), c.silverType)
	parent := fmt.Sprintf("TRY_CAST(%s AS %s)", cleaned(pc.name, p.t.tokenValues()), pc.silverType)
	q := fmt.Sprintf("SELECT count(*) FROM (SELECT DISTINCT %s AS v FROM %s) WHERE v IS NOT NULL AND v NOT IN (SELECT %s FROM %s WHERE %s IS NOT NULL)",
		child, t.rel, parent, p.t.rel, parent)
	n, err := sc.s.Int(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("table %s column %s: foreign key candidates: %w", t.name, c.name, err)
	}
	return n, nil
}

func (t *table) column(name string) *column {
	for _, c := range t.columns {
		if c.name == name {
			return c
		}
	}
	return nil
}

// specParents lists the single-column keys of an existing spec's silver tables.
func specParents(s *spec.Spec) []parentKey {
	var out []parentKey
	for _, st := range s.BaseSilver.Tables {
		if len(st.PrimaryKey) != 1 {
			continue
		}
		if c, ok := st.Column(st.PrimaryKey[0]); ok {
			out = append(out, parentKey{table: st.Name, column: c.Name, typ: strings.ToUpper(c.Type)})
		}
	}
	return out
}

// breakCycles comments live foreign keys that would close a cycle among tables
// (the task graph must be acyclic), keeping the earlier ones.
func breakCycles(tables []*table, existing *spec.Spec) {
	edges := map[string][]string{}
	if existing != nil {
		for _, st := range existing.BaseSilver.Tables {
			for _, fk := range st.ForeignKeys {
				edges[st.Name] = append(edges[st.Name], fk.ParentTable())
			}
		}
	}
	reaches := func(from, to string) bool {
		seen := map[string]bool{}
		stack := []string{from}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if n == to {
				return true
			}
			if seen[n] {
				continue
			}
			seen[n] = true
			stack = append(stack, edges[n]...)
		}
		return false
	}
	for _, t := range tables {
		for i := range t.fks {
			fk := &t.fks[i]
			if !fk.live {
				continue
			}
			if reaches(fk.parent, t.name) {
				fk.live = false
				fk.why = "GUESS: " + fk.why + ", but it would close a cycle of foreign keys"
				continue
			}
			edges[t.name] = append(edges[t.name], fk.parent)
		}
	}
	// A suggestion that would close a cycle with the emitted keys is noise.
	for _, t := range tables {
		kept := t.fks[:0]
		for _, fk := range t.fks {
			if fk.live || !reaches(fk.parent, t.name) {
				kept = append(kept, fk)
			}
		}
		t.fks = kept
	}
}
