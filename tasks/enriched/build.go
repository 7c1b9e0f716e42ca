// Package enriched builds and validates enriched transforms: spec SQL over the
// committed silver, dims and enriched data (DESIGN sections 4 and 9). A build stages
// partition D of a transform under _staging/<run_id>/; the gate audits it; publish
// commits it.
package enriched

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/catalog"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
	"github.com/shoplake/lakehouse/tasks"
)

// Options select the transform and partition to build or validate.
type Options struct {
	Transform string
	Partition string
}

// resolve checks the options against the spec.
func resolve(env *tasks.Env, o Options) (*spec.Transform, error) {
	t, ok := env.Spec.Transform(o.Transform)
	if !ok {
		var names []string
		for _, x := range env.Spec.Enriched.Transforms {
			names = append(names, x.Name)
		}
		return nil, fail.Usage(fmt.Errorf("enriched transform %q is not in spec %s (transforms: %s)", o.Transform, env.Spec.File, strings.Join(names, ", ")))
	}
	if _, err := lake.ParseDate(o.Partition); err != nil {
		return nil, fail.Usage(fmt.Errorf("enriched %s: %w", o.Transform, err))
	}
	return t, nil
}

// sqlPath is how messages name a transform's SQL file: specs/shop/sql/x.sql.
func sqlPath(env *tasks.Env, t *spec.Transform) string { return path.Join(env.Spec.Dir, t.SQL) }

// Build renders the transform's SQL for partition D, binds its depends_on to the
// committed data, runs it, and stages the result (Parquet plus a staged
// _MANIFEST.json written after the file) under _staging/<run_id>/enriched/<name>/.
// The rows the SQL returns form partition D: a result without the transform's
// partition key column gets it as DATE D. Nothing is committed.
func Build(ctx context.Context, env *tasks.Env, o Options) (*audit.Record, error) {
	t, err := resolve(env, o)
	if err != nil {
		return nil, err
	}
	return env.Run(ctx, spec.TaskEnrichedBuild, t.Name, o.Partition, func(rec *audit.Record, log *slog.Logger) error {
		if err := build(ctx, env, t, o.Partition, rec, log); err != nil {
			return err
		}
		log.Info("enriched build staged", "rows_in", rec.RowsIn, "rows_out", rec.RowsOut, "inputs", len(rec.Inputs))
		return nil
	})
}

func build(ctx context.Context, env *tasks.Env, t *spec.Transform, d string, rec *audit.Record, log interface {
	Warn(string, ...any)
}) error {
	l := env.Lake
	dir := lake.StagingDir(env.RunID, lake.Enriched, t.Name, t.Key(), d)
	// A rebuild must never leave an earlier attempt's manifest next to new files.
	if err := l.Delete(ctx, path.Join(dir, lake.ManifestFile)); err != nil {
		return err
	}

	file := sqlPath(env, t)
	src, ok := env.Spec.SQL[t.SQL]
	if !ok {
		return fail.Usage(fmt.Errorf("enriched %s: sql file %s was not loaded with the spec", t.Name, file))
	}
	sc, err := env.OpenScratch(ctx, "enriched-"+t.Name+"-")
	if err != nil {
		return err
	}
	defer sc.Close()
	work, s := sc.Dir, sc.Session

	cat := &catalog.Catalog{Spec: env.Spec, Lake: l, Partition: d, WorkDir: work}
	var query string
	var prev []catalog.Binding
	if t.Incremental {
		b, rel, err := cat.BindPrevious(ctx, s, t)
		if err != nil {
			return fmt.Errorf("enriched %s partition %s: %w", t.Name, d, err)
		}
		prev = append(prev, b)
		query, err = catalog.RenderIncremental(file, src, sqltext.DuckDB{}, d, rel)
		if err != nil {
			return fail.Usage(fmt.Errorf("enriched %s: %w", t.Name, err))
		}
	} else if query, err = catalog.Render(file, src, sqltext.DuckDB{}, d); err != nil {
		return fail.Usage(fmt.Errorf("enriched %s: %w", t.Name, err))
	}
	// A dependency's lookback narrows what is bound and downloaded; the audit's
	// inputs below list exactly those partitions.
	binds, err := cat.BindDeps(ctx, s, t.Deps()...)
	if err != nil {
		return fmt.Errorf("enriched %s partition %s: %w", t.Name, d, err)
	}
	for _, b := range prev {
		for _, p := range b.Partitions {
			rec.Inputs = append(rec.Inputs, audit.IO{URI: l.URI(path.Join(p.Dir, lake.ManifestFile)), Rows: p.Manifest.RowCount})
			rec.RowsIn += p.Manifest.RowCount
		}
	}
	for _, b := range binds {
		for _, p := range b.Partitions {
			rec.Inputs = append(rec.Inputs, audit.IO{URI: l.URI(path.Join(p.Dir, lake.ManifestFile)), Rows: p.Manifest.RowCount})
			rec.RowsIn += p.Manifest.RowCount
		}
		if b.Ref.Layer == lake.Enriched && !slices.Contains(b.Values(), d) {
			// The task graph publishes dependencies first; a hand-run build may not have.
			log.Warn("enriched dependency has no committed partition D: the transform reads older partitions only",
				"dependency", b.Ref.String(), "latest", last(b.Values()))
		}
	}

	query = strings.TrimRight(strings.TrimSpace(query), "; \t\r\n")
	if err := catalog.CheckSelect(ctx, s, query); err != nil {
		return fmt.Errorf("enriched %s partition %s: %s: %w", t.Name, d, file, err)
	}
	if err := s.Exec(ctx, "CREATE TEMP TABLE result AS\n"+query+"\n"); err != nil {
		return fmt.Errorf("enriched %s partition %s: run %s: %w", t.Name, d, file, catalog.SQLError(err))
	}
	cols, err := columns(ctx, s, "SELECT * FROM result")
	if err != nil {
		return err
	}
	if err := checkColumns(t, cols); err != nil {
		return fail.Usage(fmt.Errorf("enriched %s partition %s: %s: %w", t.Name, d, file, err))
	}
	out := outputSelect(cols, t.Key(), d)
	n, err := s.Int(ctx, "SELECT count(*) FROM result")
	if err != nil {
		return err
	}

	_, mp, err := sc.Stage(ctx, l, tasks.Output{Query: out, Dir: dir, Rows: n,
		Manifest: lake.Manifest{Version: lake.ManifestVersion, Table: t.Name, Layer: lake.Enriched,
			Partition: map[string]string{t.Key(): d}},
		// The manifest records what the file holds, as a reader of the file sees it.
		Schema: func(local string) ([]lake.Field, error) {
			return columns(ctx, s, "SELECT * FROM read_parquet("+duck.Str(local)+")")
		}})
	if err != nil {
		return fmt.Errorf("enriched %s partition %s: %w", t.Name, d, err)
	}
	rec.RowsOut = n
	rec.Outputs = append(rec.Outputs, audit.IO{URI: l.URI(mp), Rows: n})
	return nil
}

// outputSelect selects the result as it is staged: HUGEINT columns (DuckDB's
// type for sums of integers) as BIGINT, since Parquet would store them as DOUBLE
// (a value that does not fit fails the build instead of losing precision), and the
// partition key as DATE D when the SQL did not return it.
func outputSelect(cols []lake.Field, key, d string) string {
	sel := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		switch c.Type {
		case "HUGEINT":
			sel = append(sel, fmt.Sprintf("CAST(%s AS BIGINT) AS %s", duck.Ident(c.Name), duck.Ident(c.Name)))
		case "UHUGEINT":
			sel = append(sel, fmt.Sprintf("CAST(%s AS UBIGINT) AS %s", duck.Ident(c.Name), duck.Ident(c.Name)))
		default:
			sel = append(sel, duck.Ident(c.Name))
		}
	}
	if !hasColumn(cols, key) {
		sel = append(sel, fmt.Sprintf("DATE %s AS %s", duck.Str(d), duck.Ident(key)))
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM result"
}

// checkColumns compares the result with the transform's declared columns (none
// declared: anything goes): the same names and types, the partition key aside, as
// staged (HUGEINT as BIGINT), so tomorrow's {{ previous }} reads what it expects.
func checkColumns(t *spec.Transform, cols []lake.Field) error {
	if t.Columns == nil {
		return nil
	}
	got := map[string]string{}
	for _, c := range cols {
		if c.Name == t.Key() {
			continue
		}
		ty := c.Type
		switch ty {
		case "HUGEINT":
			ty = "BIGINT"
		case "UHUGEINT":
			ty = "UBIGINT"
		}
		got[c.Name] = ty
	}
	var errs []string
	for _, c := range t.Columns {
		ty, ok := got[c.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("column %s (%s) is declared but the SQL does not return it", c.Name, c.Type))
		case !strings.EqualFold(strings.ReplaceAll(ty, " ", ""), strings.ReplaceAll(c.Type, " ", "")):
			errs = append(errs, fmt.Sprintf("column %s is %s, declared %s: cast it in the SQL", c.Name, ty, c.Type))
		}
		delete(got, c.Name)
	}
	for _, c := range cols {
		if _, extra := got[c.Name]; extra {
			errs = append(errs, fmt.Sprintf("column %s (%s) is returned but not declared in columns", c.Name, got[c.Name]))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the result does not match the declared columns: %s", strings.Join(errs, "; "))
	}
	return nil
}

// columns describes a query's result as the manifest's schema.
func columns(ctx context.Context, s *duck.Session, q string) ([]lake.Field, error) {
	rows, err := s.Conn.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+q+")")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []lake.Field
	for rows.Next() {
		var f lake.Field
		if err := rows.Scan(&f.Name, &f.Type); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func hasColumn(fs []lake.Field, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

func last(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[len(ss)-1]
}
