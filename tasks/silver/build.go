// Package silver builds and validates base-silver tables on DuckDB: type casting,
// cleaning, deduplication, PK/FK validation, and a quarantine that keeps every
// rejected row with its reason (DESIGN section 3).
package silver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strings"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// Options select the table and partition to build or validate.
type Options struct {
	Table     string
	Partition string
}

// resolve checks the options against the spec.
func resolve(env *tasks.Env, o Options) (*spec.SilverTable, *spec.BronzeTable, error) {
	t, ok := env.Spec.SilverTable(o.Table)
	if !ok {
		return nil, nil, fail.Usage(fmt.Errorf("silver table %q is not in spec %s", o.Table, env.Spec.File))
	}
	if _, err := lake.ParseDate(o.Partition); err != nil {
		return nil, nil, fail.Usage(fmt.Errorf("silver %s: %w", o.Table, err))
	}
	b, ok := env.Spec.BronzeTable(t.Source)
	if !ok {
		return nil, nil, fail.Usage(fmt.Errorf("silver %s: source bronze table %q is not in the spec", o.Table, t.Source))
	}
	return t, b, nil
}

// Build stages partition D of a silver table and its quarantine under
// _staging/<run_id>/ and writes the build audit. Nothing is committed: publish does
// that once silver validate has passed.
func Build(ctx context.Context, env *tasks.Env, o Options) (*audit.Record, error) {
	t, b, err := resolve(env, o)
	if err != nil {
		return nil, err
	}
	rec, err := env.Run(ctx, spec.TaskSilverBuild, t.Name, o.Partition, func(rec *audit.Record, log *slog.Logger) error {
		if err := build(ctx, env, t, b, o.Partition, rec); err != nil {
			return err
		}
		log.Info("silver build staged", "rows_in", rec.RowsIn, "rows_out", rec.RowsOut,
			"rows_quarantined", rec.RowsQuarantined, "rows_deduplicated", rec.RowsDeduplicated)
		return nil
	})
	return rec, err
}

func build(ctx context.Context, env *tasks.Env, t *spec.SilverTable, b *spec.BronzeTable, d string, rec *audit.Record) error {
	l := env.Lake
	silverDir := lake.StagingDir(env.RunID, lake.Silver, t.Name, t.Key(), d)
	quarDir := lake.StagingDir(env.RunID, lake.Quarantine, t.Name, t.Key(), d)
	// A rebuild must never leave an earlier attempt's manifest next to new files.
	for _, dir := range []string{silverDir, quarDir} {
		if err := l.Delete(ctx, path.Join(dir, lake.ManifestFile)); err != nil {
			return err
		}
	}

	src, err := lake.ReadCommitted(ctx, l, lake.Bronze, b.Name, env.Spec.BronzeKey(), d)
	if err != nil {
		if errors.Is(err, lake.ErrNotExist) {
			return fail.Data(fmt.Errorf("silver %s partition %s: bronze manifest %s not found (has upstream delivered it?)",
				t.Name, d, path.Join(lake.PartitionDir(lake.Bronze, b.Name, env.Spec.BronzeKey(), d), lake.ManifestFile)))
		}
		return fail.Data(fmt.Errorf("silver %s partition %s: %w", t.Name, d, err))
	}
	sc, err := env.OpenScratch(ctx, "silver-"+t.Name+"-")
	if err != nil {
		return err
	}
	defer sc.Close()
	work, s := sc.Dir, sc.Session

	locals, err := lake.Localize(ctx, l, src.FilePaths(), work)
	if err != nil {
		return err
	}
	files := make([]sourceFile, len(locals))
	for i, f := range src.Manifest.Files {
		files[i] = sourceFile{Local: locals[i], Name: f.Path}
		rec.Inputs = append(rec.Inputs, audit.IO{URI: l.URI(path.Join(src.Dir, f.Path)), Rows: f.Rows})
	}

	fkTables := make([]string, len(t.ForeignKeys))
	for i, fk := range t.ForeignKeys {
		if fk.Warns() {
			continue // its orphans stay in silver; the gate counts them there
		}
		fkTables[i] = fmt.Sprintf("fkkeys%d", i)
		if err := loadParentKeys(ctx, env, s, t, fk, d, fkTables[i], work); err != nil {
			return err
		}
	}

	p := plan{table: t, bronze: b}
	if err := s.Exec(ctx, p.classify(files, fkTables)); err != nil {
		err = fmt.Errorf("silver %s partition %s: read bronze: %w", t.Name, d, err)
		if duck.IsInfrastructure(err) {
			return err
		}
		return fail.Data(err) // unreadable or non-conforming bronze: the gate should have caught it
	}
	if err := s.Exec(ctx, p.dedup()...); err != nil {
		return fmt.Errorf("silver %s partition %s: deduplicate: %w", t.Name, d, err)
	}
	if err := s.Exec(ctx, p.outcome()); err != nil {
		return fmt.Errorf("silver %s partition %s: %w", t.Name, d, err)
	}
	if err := countOutcome(ctx, s, rec); err != nil {
		return fmt.Errorf("silver %s partition %s: count: %w", t.Name, d, err)
	}
	// Every outcome row is one bronze row with exactly one fate (countOutcome adds
	// them up), so conservation holds if no bronze row was lost or doubled on the way.
	if rec.RowsIn != src.Manifest.RowCount {
		return fmt.Errorf("silver %s partition %s: classified %d rows, the bronze manifest lists %d",
			t.Name, d, rec.RowsIn, src.Manifest.RowCount)
	}
	if err := countOrphans(ctx, s, t, rec); err != nil {
		return fmt.Errorf("silver %s partition %s: count foreign key orphans: %w", t.Name, d, err)
	}

	silverSchema := schemaOf(t.Columns)
	if _, ok := t.Column(t.Key()); !ok {
		silverSchema = append(silverSchema, lake.Field{Name: t.Key(), Type: "DATE"})
	}
	quarSchema := append(schemaOf(b.Columns), lake.QuarantineFields()...)
	// The gate and publish read the counts from the staged manifests, not the audit.
	counts := &lake.BuildCounts{RowsIn: rec.RowsIn, RowsOut: rec.RowsOut, RowsQuarantined: rec.RowsQuarantined,
		RowsDeduplicated: rec.RowsDeduplicated, Reasons: rec.Reasons, Orphans: rec.Orphans}

	outputs := []struct {
		layer, dir string
		query      string
		rows       int64
		schema     []lake.Field
	}{
		// The quarantine also keeps the deduplicated rows (reason "deduplicated").
		{lake.Quarantine, quarDir, p.quarantineSelect(files, env.RunID), rec.RowsQuarantined + rec.RowsDeduplicated, quarSchema},
		{lake.Silver, silverDir, p.silverSelect(d), rec.RowsOut, silverSchema},
	}
	for _, out := range outputs {
		_, mp, err := sc.Stage(ctx, l, tasks.Output{Query: out.query, Dir: out.dir, Rows: out.rows,
			Manifest: lake.Manifest{Version: lake.ManifestVersion, Table: t.Name, Layer: out.layer,
				Partition: map[string]string{t.Key(): d}, Schema: out.schema, Build: counts}})
		if err != nil {
			return fmt.Errorf("silver %s partition %s: %w", t.Name, d, err)
		}
		rec.Outputs = append(rec.Outputs, audit.IO{URI: l.URI(mp), Rows: out.rows})
	}
	return nil
}

// countOutcome fills the audit's row counts and the quarantine reasons.
func countOutcome(ctx context.Context, s *duck.Session, rec *audit.Record) error {
	rows, err := s.Conn.QueryContext(ctx, `SELECT coalesce(_final_reason, CASE WHEN _deduplicated THEN '~dedup' ELSE '~out' END) AS k, count(*)
FROM outcome GROUP BY k ORDER BY k`)
	if err != nil {
		return err
	}
	defer rows.Close()
	rec.Reasons = map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		rec.RowsIn += n
		switch k {
		case "~dedup":
			rec.RowsDeduplicated += n
		case "~out":
			rec.RowsOut += n
		default:
			rec.RowsQuarantined += n
			rec.Reasons[k] = n
		}
	}
	return rows.Err()
}

// countOrphans records, per foreign key that quarantines its orphans, how many
// rows it quarantined and the parent keys they miss most (the gate reports them).
func countOrphans(ctx context.Context, s *duck.Session, t *spec.SilverTable, rec *audit.Record) error {
	for _, fk := range t.ForeignKeys {
		n := rec.Reasons[fk.Reason()]
		if fk.Warns() || n == 0 {
			continue
		}
		o := audit.Orphans{ForeignKey: fk.Name(), References: fk.References, Rows: n}
		q := fmt.Sprintf("SELECT %s AS k FROM classified WHERE %s = %s", keyText(fk.ChildColumns(), ""), colReason, duck.Str(fk.Reason()))
		var err error
		if _, o.Keys, o.TopMissing, err = missingKeys(ctx, s, q); err != nil {
			return err
		}
		rec.Orphans = append(rec.Orphans, o)
	}
	return nil
}

// missingKeys counts the rows of q (one per orphan, its key as column k), its
// distinct keys, and returns the most frequent keys with their row counts.
func missingKeys(ctx context.Context, s *duck.Session, q string) (rows, keys int64, top []audit.KeyCount, err error) {
	count, topQ := topMissing(q, sampleKeys)
	if err := s.Conn.QueryRowContext(ctx, count).Scan(&rows, &keys); err != nil {
		return 0, 0, nil, err
	}
	if rows == 0 {
		return 0, 0, nil, nil
	}
	res, err := s.Conn.QueryContext(ctx, topQ)
	if err != nil {
		return 0, 0, nil, err
	}
	defer res.Close()
	for res.Next() {
		var k audit.KeyCount
		if err := res.Scan(&k.Key, &k.Rows); err != nil {
			return 0, 0, nil, err
		}
		top = append(top, k)
	}
	return rows, keys, top, res.Err()
}

// loadParentKeys creates a temp table of the distinct parent keys an FK may refer
// to: one column per key column (fkKeyCol), typed as this table's columns.
func loadParentKeys(ctx context.Context, env *tasks.Env, s *duck.Session, t *spec.SilverTable, fk spec.ForeignKey, d, name, work string) error {
	parent, ok := env.Spec.SilverTable(fk.ParentTable())
	if !ok {
		return fail.Usage(fmt.Errorf("silver %s: foreign key %s references unknown table %s", t.Name, fk.Name(), fk.References))
	}
	var defs, sel, notNull []string
	for j, c := range fk.ChildColumns() {
		col, ok := t.Column(c)
		pc := fk.ParentColumns()
		if !ok || j >= len(pc) {
			return fail.Usage(fmt.Errorf("silver %s: foreign key %s -> %s does not match the table's columns", t.Name, fk.Name(), fk.References))
		}
		defs = append(defs, fkKeyCol(j)+" "+col.Type)
		sel = append(sel, fmt.Sprintf("TRY_CAST(%s AS %s) AS %s", duck.Ident(pc[j]), col.Type, fkKeyCol(j)))
		notNull = append(notNull, duck.Ident(pc[j])+" IS NOT NULL")
	}
	parts, err := ParentPartitions(ctx, env, parent, d, fk.Window())
	if err != nil {
		return err
	}
	var paths []string
	for _, p := range parts {
		paths = append(paths, p.FilePaths()...)
	}
	if len(paths) == 0 {
		return s.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (%s)", name, strings.Join(defs, ", ")))
	}
	locals, err := lake.Localize(ctx, env.Lake, paths, work)
	if err != nil {
		return err
	}
	return s.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s AS SELECT DISTINCT %s FROM read_parquet(%s, hive_partitioning = false) WHERE %s",
		name, strings.Join(sel, ", "), duck.StrList(locals), strings.Join(notNull, " AND ")))
}

// ParentPartitions are the partitions of a parent table that a foreign key of
// partition D is checked against: every committed partition up to and including D
// (only those in [D - lookback, D] with the key's lookback w), with partition D
// replaced by the one this run staged once its gate has passed (so a DAG that
// publishes after all gates still sees today's parents).
func ParentPartitions(ctx context.Context, env *tasks.Env, parent *spec.SilverTable, d string, w spec.Window) ([]*lake.Partition, error) {
	vals, err := lake.CommittedPartitions(ctx, env.Lake, lake.Silver, parent.Name, parent.Key())
	if err != nil {
		return nil, err
	}
	staged, err := stagedPassed(ctx, env, parent, d)
	if err != nil {
		return nil, err
	}
	var out []*lake.Partition
	for _, v := range vals {
		if v > d || (v == d && staged != nil) || !w.Contains(d, v) {
			continue
		}
		p, err := lake.ReadCommitted(ctx, env.Lake, lake.Silver, parent.Name, parent.Key(), v)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if staged != nil {
		out = append(out, staged)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, nil
}

// stagedPassed returns the parent's partition D staged by this run if its silver
// gate passed (lake.ReadVerdict), else nil.
func stagedPassed(ctx context.Context, env *tasks.Env, parent *spec.SilverTable, d string) (*lake.Partition, error) {
	g, err := lake.ReadVerdict(ctx, env.Lake, spec.TaskSilverValidate, env.RunID, lake.Silver, parent.Name, parent.Key(), d)
	if err != nil || !g.Passed {
		return nil, err
	}
	p, err := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Silver, parent.Name, parent.Key(), d)
	if errors.Is(err, lake.ErrNotExist) {
		return nil, nil
	}
	return p, err
}

func schemaOf(cols []spec.Column) []lake.Field {
	out := make([]lake.Field, len(cols))
	for i, c := range cols {
		out[i] = lake.Field{Name: c.Name, Type: c.Type}
	}
	return out
}
