// Package bronze brings files into the bronze layer and gates bronze partitions
// (DESIGN sections 3 and 5): `worker bronze import` turns CSV, Parquet or NDJSON
// files into an immutable partition with its _MANIFEST.json, and `worker bronze
// validate` checks a partition (manifest, files, row counts, schema, coverage)
// before silver reads it.
package bronze

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// DefaultSource is the manifest's source when an import names none.
const DefaultSource = "bronze-import"

// DefaultPollInterval is how often Validate looks for a manifest it waits for.
const DefaultPollInterval = 30 * time.Second

// target is one partition of a bronze table named by the spec.
type target struct {
	table *spec.BronzeTable
	key   string
	value string
	// dir is bronze/<table>/<key>=<value>.
	dir string
}

func (t target) manifestPath() string { return path.Join(t.dir, lake.ManifestFile) }

// resolve checks the table and partition a command names; both are usage errors.
func resolve(env *tasks.Env, table, partition string) (target, error) {
	if table == "" {
		return target{}, fail.Usage(errors.New("bronze: no table given"))
	}
	t, ok := env.Spec.BronzeTable(table)
	if !ok {
		names := make([]string, len(env.Spec.Bronze.Tables))
		for i, bt := range env.Spec.Bronze.Tables {
			names[i] = bt.Name
		}
		return target{}, fail.Usage(fmt.Errorf("bronze table %q is not in the spec %s (bronze tables: %s)",
			table, env.Spec.File, strings.Join(names, ", ")))
	}
	if _, err := lake.ParseDate(partition); err != nil {
		return target{}, fail.Usage(fmt.Errorf("bronze %s: %w", table, err))
	}
	key := env.Spec.BronzeKey()
	return target{table: t, key: key, value: partition, dir: lake.PartitionDir(lake.Bronze, table, key, partition)}, nil
}

// typePattern admits DuckDB type names (VARCHAR, DECIMAL(12,2), TIMESTAMP WITH TIME
// ZONE, INTEGER[]) and nothing that could carry another SQL clause, since a type is
// spliced into CAST(... AS <type>).
var typePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*( [A-Za-z][A-Za-z0-9_]*)*( ?\(\d+( ?, ?\d+)?\))?(\[\d*\])*$`)

// specTypes returns the canonical DuckDB names of the table's column types (the
// names DESCRIBE prints: TEXT becomes VARCHAR, DECIMAL becomes DECIMAL(18,3)), so
// they compare with what files hold. A type DuckDB does not know is a spec error.
func specTypes(ctx context.Context, s *duck.Session, env *tasks.Env, t *spec.BronzeTable) ([]string, error) {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		if !typePattern.MatchString(c.Type) {
			return nil, fail.Usage(fmt.Errorf("%s: bronze table %s column %s: type %q is not a DuckDB type name",
				env.Spec.File, t.Name, c.Name, c.Type))
		}
		var name string
		q := "SELECT typeof(CAST(NULL AS " + c.Type + "))"
		if err := s.Conn.QueryRowContext(ctx, q).Scan(&name); err != nil {
			if duck.IsInfrastructure(err) {
				return nil, fmt.Errorf("bronze table %s column %s: check type %s: %w", t.Name, c.Name, c.Type, err)
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fail.Usage(fmt.Errorf("%s: bronze table %s column %s: type %q is not a DuckDB type: %s",
				env.Spec.File, t.Name, c.Name, c.Type, oneLine(err.Error())))
		}
		out[i] = name
	}
	return out, nil
}

// describe lists the columns of a relation (a FROM clause item).
func describe(ctx context.Context, s *duck.Session, from string) ([]duck.Column, error) {
	return s.Describe(ctx, from)
}

// oneLine folds a (DuckDB) error message onto one line for logs and exit messages.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// quoteList renders names as "a", "b" for messages.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
