package gold

import (
	"fmt"
	"path"
	"strings"

	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
	"github.com/shoplake/lakehouse/internal/warehouse"
)

// DefaultRenderProject is the BigQuery project RenderSQL's callers name when they
// render without a warehouse to run on (`worker gold render --dialect bigquery`
// without --bq-project).
const DefaultRenderProject = "proj"

// RenderOptions select what RenderSQL renders: a mart, a partition D and the
// warehouse dialect (sqltext.DuckDB{} or sqltext.BigQuery{Project: p}).
type RenderOptions struct {
	Mart      string
	Partition string
	Dialect   sqltext.Dialect
}

// RenderSQL returns the query `gold build` runs for the mart and partition on a
// warehouse of the given dialect: the mart's spec SQL with its macros expanded,
// its layer-qualified names bound to the warehouse's tables and its dims refs
// replaced by the snapshot subqueries. It touches no lake and no warehouse.
func RenderSQL(s *spec.Spec, o RenderOptions) (string, error) {
	m, err := lookupMart(s, "gold render", o.Mart, o.Partition)
	if err != nil {
		return "", err
	}
	return renderMart(s, m, o.Partition, o.Dialect)
}

// lookupMart finds a buildable mart and checks the partition; cmd names the
// command in the error.
func lookupMart(s *spec.Spec, cmd, name, d string) (*spec.Mart, error) {
	m, ok := s.Mart(name)
	if !ok {
		var names []string
		for _, x := range s.Marts() {
			names = append(names, x.Name)
		}
		return nil, fail.Usage(fmt.Errorf("gold mart %q is not in spec %s (marts: %s)", name, s.File, strings.Join(names, ", ")))
	}
	if _, err := lake.ParseDate(d); err != nil {
		return nil, fail.Usage(fmt.Errorf("%s %s: %w", cmd, name, err))
	}
	if m.PartitionBy == "" {
		return nil, fail.Usage(fmt.Errorf("gold mart %q has no partition_by: name the DATE column that carries the partition D", m.Name))
	}
	return m, nil
}

// renderMart renders the mart's SQL for partition D and a dialect; Build uses it
// with the dialect of the warehouse it opened.
func renderMart(s *spec.Spec, m *spec.Mart, d string, dialect sqltext.Dialect) (string, error) {
	src, ok := s.SQL[m.SQL]
	if !ok {
		return "", fail.Usage(fmt.Errorf("sql file %s is not loaded", m.SQL))
	}
	q, err := warehouse.Render(src, warehouse.RenderOptions{Dialect: dialect, Partition: d, DependsOn: m.Refs(),
		Dims: func(name string) (string, bool, bool) {
			dim, history, ok := s.DimOf(name)
			if !ok {
				return "", false, false
			}
			return dim.Name, history, true
		},
		Bounds: martBounds(s, m, d)})
	if err != nil {
		return "", fail.Usage(fmt.Errorf("%s: %w", path.Join(s.Dir, m.SQL), err))
	}
	return q, nil
}

// martBounds are the windows of the mart's depends_on with a lookback, by the
// partition column of each warehouse copy (none for names the spec does not know;
// Load rejects them).
func martBounds(s *spec.Spec, m *spec.Mart, d string) map[spec.Ref]warehouse.Bound {
	out := map[spec.Ref]warehouse.Bound{}
	for _, dep := range m.Deps() {
		if !dep.Lookback.Bounded {
			continue
		}
		var key string
		switch dep.Ref.Layer {
		case spec.LayerSilver:
			if t, ok := s.SilverTable(dep.Ref.Name); ok {
				key = t.Key()
			}
		case spec.LayerEnriched:
			if t, ok := s.Transform(dep.Ref.Name); ok {
				key = t.Key()
			}
		case spec.LayerDims:
			key = lake.DimsKey
		}
		if key != "" {
			out[dep.Ref] = warehouse.Bound{Key: key, Since: dep.Lookback.Since(d)}
		}
	}
	return out
}
