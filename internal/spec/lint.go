package spec

import "fmt"

// Warnings are what `worker specs lint` reports without refusing the spec, by
// position: each unbounded input of a transform, mart or foreign key, a cost that
// grows with the history in the lake. Dims snapshots (one partition) and gold
// tables (read from the warehouse) have no lookback and get none.
func (s *Spec) Warnings() Errors {
	var out Errors
	warn := func(path, format string, args ...any) {
		out = append(out, s.ErrorAt(path, format, args...))
	}
	for i := range s.BaseSilver.Tables {
		t := &s.BaseSilver.Tables[i]
		for k, fk := range t.ForeignKeys {
			if fk.Window().Bounded {
				continue
			}
			warn(indexPath(joinPath(indexPath("base_silver.tables", i), "foreign_keys"), k),
				"base_silver table %q: foreign key %s is unbounded: it reads the keys of every partition of %s up to D, a cost that grows with history (add lookback: Nd if rows reference parents of the last N days only)",
				t.Name, fk.Name(), fk.ParentTable())
		}
	}
	deps := func(p, what string, es []DependsOnEntry) {
		for k, e := range es {
			r, err := ParseRef(e.Table)
			if err != nil || e.Window().Bounded || !growsWithHistory(s, r) {
				continue
			}
			warn(indexPath(joinPath(p, "depends_on"), k),
				"%s: depends_on %q is unbounded: it binds every committed partition, a cost that grows with history (write {table: %s, lookback: Nd} if the SQL reads the last N days only)",
				what, e.Table, e.Table)
		}
	}
	for i := range s.Enriched.Transforms {
		t := &s.Enriched.Transforms[i]
		deps(indexPath("enriched.transforms", i), fmt.Sprintf("enriched transform %q", t.Name), t.DependsOn)
	}
	for _, kind := range []struct {
		key, label string
		marts      []Mart
	}{{"gold.facts", "gold fact", s.Gold.Facts}, {"gold.dims", "gold dim", s.Gold.Dims}} {
		for i := range kind.marts {
			m := &kind.marts[i]
			deps(indexPath(kind.key, i), fmt.Sprintf("%s %q", kind.label, m.Name), m.DependsOn)
		}
	}
	return sortErrors(out)
}

// growsWithHistory is true for a name that binds more partitions as days pass:
// not a dims snapshot (the latest one), nor a gold table.
func growsWithHistory(s *Spec, r Ref) bool {
	switch r.Layer {
	case LayerGold:
		return false
	case LayerDims:
		_, history, ok := s.DimOf(r.Name)
		return ok && history
	}
	return true
}
