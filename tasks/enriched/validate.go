package enriched

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
	"github.com/shoplake/lakehouse/tasks"
)

// sampleKeys is how many failing keys a check shows.
const sampleKeys = 5

// Validate is the enriched gate: it audits what this run's build staged for the
// partition and writes the report. Checks: the staged manifest and its files
// (present, intact, row count, schema), every row in partition D, min_rows,
// not_null columns, a null analysis of every column, and each business rule.
//
// A rule is a boolean SQL expression over the output rows; a row violates it when
// the rule is false or NULL (NOT coalesce(rule, false)), so a rule over a NULL value
// must say what NULL means, e.g. "return_rate IS NULL OR return_rate >= 0".
// A failed check returns a data error (exit 3) and publish refuses the partition.
func Validate(ctx context.Context, env *tasks.Env, o Options) (*audit.Record, *audit.Report, error) {
	t, err := resolve(env, o)
	if err != nil {
		return nil, nil, err
	}
	judged := tasks.Judged{Key: t.Key(), Layers: []string{lake.Enriched}}
	return env.GateStaged(ctx, spec.TaskEnrichedValidate, "enriched validate", t.Name, o.Partition, judged, func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error {
		if err := validate(ctx, env, t, o.Partition, rec, rep); err != nil {
			return err
		}
		log.Info("enriched gate checked", "checks", len(rep.Checks), "rows", rec.RowsOut)
		return nil
	})
}

func validate(ctx context.Context, env *tasks.Env, t *spec.Transform, d string, rec *audit.Record, rep *audit.Report) error {
	l := env.Lake
	part, err := lake.ReadStaged(ctx, l, env.RunID, lake.Enriched, t.Name, t.Key(), d)
	if err != nil {
		rep.Add(audit.Check{Name: "staged", Status: audit.Fail, Observed: "missing",
			Message: fmt.Sprintf("nothing staged by run %s (run enriched build first): %v", env.RunID, err)})
		return nil
	}
	rep.Add(audit.Check{Name: "staged", Status: audit.Pass, Observed: "present", Message: "staged manifest present"})
	rec.RowsIn, rec.RowsOut = part.Manifest.RowCount, part.Manifest.RowCount
	for _, f := range part.Manifest.Files {
		rec.Inputs = append(rec.Inputs, audit.IO{URI: l.URI(path.Join(part.Dir, f.Path)), Rows: f.Rows})
	}

	bad, err := lake.ChangedFiles(ctx, l, part)
	if err != nil {
		return err
	}
	rep.Add(check("files_intact", len(bad) == 0, len(bad), 0, describe(bad, "staged files missing or changed: ")))
	if len(bad) > 0 {
		return nil
	}

	sc, err := env.OpenScratch(ctx, "enriched-validate-")
	if err != nil {
		return err
	}
	defer sc.Close()
	work, s := sc.Dir, sc.Session
	locals, err := lake.Localize(ctx, l, part.FilePaths(), work)
	if err != nil {
		return err
	}
	if len(locals) == 0 {
		rep.Add(check("row_count", false, 0, part.Manifest.RowCount, "the staged manifest lists no data file"))
		return nil
	}
	if err := s.Exec(ctx, "CREATE TEMP VIEW staged AS SELECT * FROM read_parquet("+duck.StrList(locals)+", hive_partitioning = false)"); err != nil {
		return fmt.Errorf("enriched validate %s partition %s: read staged files: %w", t.Name, d, err)
	}

	n, err := s.Int(ctx, "SELECT count(*) FROM staged")
	if err != nil {
		return err
	}
	rep.Add(check("row_count", n == part.Manifest.RowCount, n, part.Manifest.RowCount,
		fmt.Sprintf("files hold %d rows, manifest says %d", n, part.Manifest.RowCount)))

	cols, err := columns(ctx, s, "SELECT * FROM staged")
	if err != nil {
		return err
	}
	rep.Add(check("schema", sameSchema(cols, part.Manifest.Schema), schemaText(cols), schemaText(part.Manifest.Schema),
		"the files' columns differ from the staged manifest's schema"))

	v := validator{s: s, cols: cols, keyExpr: keyExpr(t, cols)}
	if err := v.partitionKey(ctx, rep, t.Key(), d); err != nil {
		return err
	}
	if t.Checks.MinRows == nil {
		rep.Add(audit.Check{Name: "min_rows", Status: audit.Pass, Observed: n, Message: "no min_rows in the spec"})
	} else {
		rep.Add(check("min_rows", n >= *t.Checks.MinRows, n, *t.Checks.MinRows,
			fmt.Sprintf("%d rows, the spec wants at least %d", n, *t.Checks.MinRows)))
	}
	for _, c := range t.Checks.NotNull {
		if err := v.notNull(ctx, rep, c); err != nil {
			return err
		}
	}
	if err := v.nullAnalysis(ctx, rep, n); err != nil {
		return err
	}
	for _, r := range t.Checks.Rules {
		if err := v.rule(ctx, rep, r); err != nil {
			return err
		}
	}
	return nil
}

// validator runs the data checks over the staged rows (view "staged").
type validator struct {
	s    *duck.Session
	cols []lake.Field
	// keyExpr renders a row's key as text for sample_keys.
	keyExpr string
}

// partitionKey checks that the output carries partition D in its key column.
func (v validator) partitionKey(ctx context.Context, rep *audit.Report, key, d string) error {
	if !hasColumn(v.cols, key) {
		rep.Add(check("partition_key", false, "missing", d, fmt.Sprintf("the output has no %s column", key)))
		return nil
	}
	cond := fmt.Sprintf("TRY_CAST(%s AS DATE) IS DISTINCT FROM DATE %s", duck.Ident(key), duck.Str(d))
	sm, err := v.sample(ctx, cond)
	if err != nil {
		return err
	}
	c := check("partition_key", sm.total == 0, sm.total, d,
		fmt.Sprintf("%s a %s other than %s%s", nRows(sm.total, "has", "have"), key, d, eg(sm.keys)))
	c.SampleKeys = sm.keys
	rep.Add(c)
	return nil
}

func (v validator) notNull(ctx context.Context, rep *audit.Report, col string) error {
	name := "not_null:" + col
	if !hasColumn(v.cols, col) {
		rep.Add(check(name, false, "missing", 0, fmt.Sprintf("the output has no column %s", col)))
		return nil
	}
	sm, err := v.sample(ctx, duck.Ident(col)+" IS NULL")
	if err != nil {
		return err
	}
	c := check(name, sm.total == 0, sm.total, 0, fmt.Sprintf("%s %s NULL%s", nRows(sm.total, "has", "have"), col, eg(sm.keys)))
	c.SampleKeys = sm.keys
	rep.Add(c)
	return nil
}

// nullAnalysis reports every column's share of NULLs; a column that is NULL in
// every row warns (a join that matched nothing, a renamed input column).
func (v validator) nullAnalysis(ctx context.Context, rep *audit.Report, n int64) error {
	rates := map[string]float64{}
	if n == 0 || len(v.cols) == 0 {
		rep.Add(audit.Check{Name: "null_analysis", Status: audit.Pass, Observed: rates, Message: "no rows to analyse"})
		return nil
	}
	counts := make([]string, len(v.cols))
	for i, c := range v.cols {
		counts[i] = "count(" + duck.Ident(c.Name) + ")"
	}
	vals := make([]int64, len(v.cols))
	ptrs := make([]any, len(v.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := v.s.Conn.QueryRowContext(ctx, "SELECT "+strings.Join(counts, ", ")+" FROM staged").Scan(ptrs...); err != nil {
		return err
	}
	var allNull []string
	for i, c := range v.cols {
		rates[c.Name] = round(1 - float64(vals[i])/float64(n))
		if vals[i] == 0 {
			allNull = append(allNull, c.Name)
		}
	}
	c := audit.Check{Name: "null_analysis", Status: audit.Pass, Observed: rates, Threshold: nil,
		Message: "null rate per column; no column is entirely NULL"}
	if len(allNull) > 0 {
		sort.Strings(allNull)
		c.Status = audit.Warn
		c.Message = "NULL in every row: " + strings.Join(allNull, ", ")
	}
	rep.Add(c)
	return nil
}

// rule counts the rows where the rule is false or NULL.
func (v validator) rule(ctx context.Context, rep *audit.Report, rule string) error {
	name := "rule:" + rule
	if err := spec.CheckExpr(rule); err != nil {
		rep.Add(check(name, false, "invalid", "true", fmt.Sprintf("rule %q %v", rule, err)))
		return nil
	}
	sm, err := v.sample(ctx, "NOT coalesce(("+rule+"), false)")
	if err != nil {
		// A rule that does not run is a failed check, not a crash of the gate.
		rep.Add(check(name, false, "error", "true", fmt.Sprintf("rule %q does not run on the output: %s", rule, oneLine(err.Error()))))
		return nil
	}
	c := check(name, sm.total == 0, sm.total, 0, fmt.Sprintf("%s %s (false or NULL)%s", nRows(sm.total, "violates", "violate"), rule, eg(sm.keys)))
	c.SampleKeys = sm.keys
	rep.Add(c)
	return nil
}

type sampled struct {
	total int64
	keys  []string
}

// sample counts the staged rows matching cond and keeps the first few keys.
func (v validator) sample(ctx context.Context, cond string) (sampled, error) {
	var out sampled
	n, err := v.s.Int(ctx, "SELECT count(*) FROM staged WHERE "+cond)
	if err != nil {
		return out, err
	}
	out.total = n
	if n == 0 {
		return out, nil
	}
	rows, err := v.s.Conn.QueryContext(ctx, fmt.Sprintf("SELECT %s AS k FROM staged WHERE %s ORDER BY k LIMIT %d", v.keyExpr, cond, sampleKeys))
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return out, err
		}
		out.keys = append(out.keys, k)
	}
	return out, rows.Err()
}

// keyExpr renders a row's key for samples: the first column, and the second too
// when it also reads as part of the grain (listed in not_null and not a number),
// e.g. reason|category; several are joined with '|'. Transforms lead with their
// grain by convention.
func keyExpr(t *spec.Transform, cols []lake.Field) string {
	if len(cols) == 0 {
		return "''"
	}
	key := []string{cols[0].Name}
	if len(cols) > 1 && slices.Contains(t.Checks.NotNull, cols[1].Name) && !numeric(cols[1].Type) {
		key = append(key, cols[1].Name)
	}
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = fmt.Sprintf("coalesce(CAST(%s AS VARCHAR), 'NULL')", duck.Ident(k))
	}
	return "concat_ws('|', " + strings.Join(parts, ", ") + ")"
}

func numeric(typ string) bool {
	switch sqltext.FamilyOf(typ) {
	case sqltext.Integer, sqltext.Float, sqltext.Decimal, sqltext.Boolean:
		return true
	}
	return false
}

func sameSchema(a, b []lake.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func schemaText(fs []lake.Field) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Name + " " + f.Type
	}
	return strings.Join(parts, ", ")
}

func check(name string, ok bool, observed, threshold any, msg string) audit.Check {
	c := audit.Check{Name: name, Status: audit.Pass, Observed: observed, Threshold: threshold, Message: "ok"}
	if !ok {
		c.Status, c.Message = audit.Fail, msg
	}
	return c
}

func round(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func describe(items []string, prefix string) string {
	if len(items) == 0 {
		return "ok"
	}
	if len(items) > sampleKeys {
		return prefix + strings.Join(items[:sampleKeys], ", ") + fmt.Sprintf(" (and %d more)", len(items)-sampleKeys)
	}
	return prefix + strings.Join(items, ", ")
}

// messageKeys is how many sample keys a one-line error names.
const messageKeys = 3

// eg names a few sample keys for a message: ", e.g. C1, C2".
func eg(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return ", e.g. " + strings.Join(keys[:min(len(keys), messageKeys)], ", ")
}

// nRows says "1 row has" or "3 rows have".
func nRows(n int64, one, many string) string {
	if n == 1 {
		return "1 row " + one
	}
	return fmt.Sprintf("%d rows %s", n, many)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
