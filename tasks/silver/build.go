// Package silver builds and validates base-silver tables on DuckDB: type casting,
// cleaning, deduplication, PK/FK validation, and a quarantine that keeps every
// rejected row with its reason (DESIGN section 3).
package silver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	sc, err := env.OpenScratchSettable(ctx, "silver-"+t.Name+"-") // it switches insertion order per step
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
		// The bytes read below must be the ones the bronze gate judged: a file
		// swapped since (same name, other content) fails the build.
		if err := lake.VerifyLocal(locals[i], f); err != nil {
			if errors.Is(err, lake.ErrChanged) {
				return fail.Data(fmt.Errorf("silver %s partition %s: bronze file %s: %w (rerun the bronze gate, or re-import the partition)",
					t.Name, d, path.Join(src.Dir, f.Path), err))
			}
			return fmt.Errorf("silver %s partition %s: %w", t.Name, d, err)
		}
		files[i] = sourceFile{Local: locals[i], Name: f.Path, Rows: f.Rows}
		rec.Inputs = append(rec.Inputs, audit.IO{URI: l.URI(path.Join(src.Dir, f.Path)), Rows: f.Rows})
	}

	// Every foreign key's parent keys are read once, here; the gate trusts the
	// counts below while the parents it would read are the ones read here (digests).
	fkTables := make([]string, len(t.ForeignKeys))
	digests := map[string]string{}
	listed := map[string]bool{}
	for i, fk := range t.ForeignKeys {
		fkTables[i] = fmt.Sprintf("fkkeys%d", i)
		parts, err := loadParentKeys(ctx, env, s, t, fk, d, fkTables[i], work)
		if err != nil {
			return err
		}
		digests[fk.Name()] = parentsDigest(parts)
		for _, p := range parts {
			if u := l.URI(path.Join(p.Dir, lake.ManifestFile)); !listed[u] {
				listed[u] = true
				rec.Inputs = append(rec.Inputs, audit.IO{URI: u, Rows: p.Manifest.RowCount})
			}
		}
	}

	p := plan{table: t, bronze: b}
	// Classification needs no row order (fate is keyed by position), so DuckDB may
	// skip keeping it there; the silver COPY below turns it back on.
	if err := s.Exec(ctx, "SET preserve_insertion_order = false"); err != nil {
		return err
	}
	if err := s.Exec(ctx, p.classify(files, fkTables)); err != nil {
		err = fmt.Errorf("silver %s partition %s: read bronze: %w", t.Name, d, err)
		if duck.IsSandboxRefusal(err) {
			// An expr or check reached for a file: the spec is wrong, not the data.
			return fail.Usage(duck.ExplainSandboxRefusal(err))
		}
		if duck.IsInfrastructure(err) {
			return err
		}
		return fail.Data(err) // unreadable or non-conforming bronze: the gate should have caught it
	}
	if err := s.Exec(ctx, p.dedup()...); err != nil {
		return fmt.Errorf("silver %s partition %s: deduplicate: %w", t.Name, d, err)
	}
	if err := s.Exec(ctx, p.fate()); err != nil {
		return fmt.Errorf("silver %s partition %s: %w", t.Name, d, err)
	}
	if err := countOutcome(ctx, s, rec); err != nil {
		return fmt.Errorf("silver %s partition %s: count: %w", t.Name, d, err)
	}
	// Every classified row is one bronze row; fate holds each row that does not
	// reach silver once, so conservation holds if no bronze row was lost or doubled.
	if rec.RowsIn != src.Manifest.RowCount {
		return fmt.Errorf("silver %s partition %s: classified %d rows, the bronze manifest lists %d",
			t.Name, d, rec.RowsIn, src.Manifest.RowCount)
	}
	inSilver, err := countOrphans(ctx, s, t, rec)
	if err != nil {
		return fmt.Errorf("silver %s partition %s: count foreign key orphans: %w", t.Name, d, err)
	}

	silverFiles, err := setFateBits(ctx, s, files)
	if err != nil {
		return fmt.Errorf("silver %s partition %s: %w", t.Name, d, err)
	}
	// silverSelect keeps the bronze order without an ORDER BY only with this on.
	if err := s.Exec(ctx, "SET preserve_insertion_order = true"); err != nil {
		return err
	}

	silverSchema := schemaOf(t.Columns)
	if _, ok := t.Column(t.Key()); !ok {
		silverSchema = append(silverSchema, lake.Field{Name: t.Key(), Type: "DATE"})
	}
	quarSchema := append(schemaOf(b.Columns), lake.QuarantineFields()...)
	// The gate and publish read the counts from the staged manifests, not the audit.
	counts := &lake.BuildCounts{RowsIn: rec.RowsIn, RowsOut: rec.RowsOut, RowsQuarantined: rec.RowsQuarantined,
		RowsDeduplicated: rec.RowsDeduplicated, Reasons: rec.Reasons, Orphans: rec.Orphans,
		SilverOrphans: inSilver, Parents: digests}

	outputs := []struct {
		layer, dir string
		query      string
		rows       int64
		schema     []lake.Field
	}{
		// The quarantine also keeps the deduplicated rows (reason "deduplicated").
		{lake.Quarantine, quarDir, p.quarantineSelect(files, env.RunID), rec.RowsQuarantined + rec.RowsDeduplicated, quarSchema},
		{lake.Silver, silverDir, p.silverSelect(silverFiles, d), rec.RowsOut, silverSchema},
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

// setFateBits returns the bronze files with Skip set (and its variable) for each
// file that has rows in fate.
func setFateBits(ctx context.Context, s *duck.Session, files []sourceFile) ([]sourceFile, error) {
	rows, err := s.Conn.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT %s >> 40 FROM fate", colOrd))
	if err != nil {
		return nil, err
	}
	var idx []int
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			rows.Close()
			return nil, err
		}
		idx = append(idx, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := append([]sourceFile(nil), files...)
	for _, i := range idx {
		if i < 0 || i >= len(out) {
			return nil, fmt.Errorf("fate names file %d of %d", i, len(out))
		}
		out[i].Skip = fmt.Sprintf("silver_fate_%d", i)
		if err := s.Exec(ctx, fateBits(out[i].Skip, i, out[i].Rows)); err != nil {
			return nil, fmt.Errorf("fate of %s: %w", out[i].Name, err)
		}
	}
	return out, nil
}

// countOutcome fills the audit's row counts and the quarantine reasons: rows_in
// from classified, the rest from the small fate table.
func countOutcome(ctx context.Context, s *duck.Session, rec *audit.Record) error {
	in, err := s.Int(ctx, "SELECT count(*) FROM classified")
	if err != nil {
		return err
	}
	rows, err := s.Conn.QueryContext(ctx, "SELECT _final_reason, count(*) FROM fate GROUP BY ALL ORDER BY 1")
	if err != nil {
		return err
	}
	defer rows.Close()
	rec.RowsIn = in
	rec.Reasons = map[string]int64{}
	out := in
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		out -= n
		if k == ReasonDeduplicated {
			rec.RowsDeduplicated += n
		} else {
			rec.RowsQuarantined += n
			rec.Reasons[k] = n
		}
	}
	rec.RowsOut = out
	return rows.Err()
}

// countOrphans records, per foreign key that quarantines its orphans, how many
// rows it quarantined and the parent keys they miss most (the gate reports them),
// and returns, per foreign key with orphans left in silver (a warn key's), the
// same for those rows: the gate's fk_integrity check without reading the parents.
func countOrphans(ctx context.Context, s *duck.Session, t *spec.SilverTable, rec *audit.Record) ([]lake.Orphans, error) {
	var inSilver []lake.Orphans
	for i, fk := range t.ForeignKeys {
		if fk.Warns() {
			q := fmt.Sprintf("SELECT %s AS k FROM classified WHERE %s IS NOT NULL AND %s NOT IN (SELECT %s FROM fate)",
				orphanCol(i), orphanCol(i), colOrd, colOrd)
			o := audit.Orphans{ForeignKey: fk.Name(), References: fk.References}
			var err error
			if o.Rows, o.Keys, o.TopMissing, err = missingKeys(ctx, s, q); err != nil {
				return nil, err
			}
			if o.Rows > 0 {
				inSilver = append(inSilver, o)
			}
			continue
		}
		n := rec.Reasons[fk.Reason()]
		if n == 0 {
			continue
		}
		o := audit.Orphans{ForeignKey: fk.Name(), References: fk.References, Rows: n}
		q := fmt.Sprintf("SELECT %s AS k FROM classified WHERE %s = %s", orphanCol(i), colReason, duck.Str(fk.Reason()))
		var err error
		if _, o.Keys, o.TopMissing, err = missingKeys(ctx, s, q); err != nil {
			return nil, err
		}
		rec.Orphans = append(rec.Orphans, o)
	}
	return inSilver, nil
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
// to: one column per key column (fkKeyCol), typed as this table's columns. It
// reads only the key columns (Parquet projection) of the partitions
// ParentPartitions names, and returns those partitions.
func loadParentKeys(ctx context.Context, env *tasks.Env, s *duck.Session, t *spec.SilverTable, fk spec.ForeignKey, d, name, work string) ([]*lake.Partition, error) {
	parent, ok := env.Spec.SilverTable(fk.ParentTable())
	if !ok {
		return nil, fail.Usage(fmt.Errorf("silver %s: foreign key %s references unknown table %s", t.Name, fk.Name(), fk.References))
	}
	var defs, sel, notNull []string
	for j, c := range fk.ChildColumns() {
		col, ok := t.Column(c)
		pc := fk.ParentColumns()
		if !ok || j >= len(pc) {
			return nil, fail.Usage(fmt.Errorf("silver %s: foreign key %s -> %s does not match the table's columns", t.Name, fk.Name(), fk.References))
		}
		defs = append(defs, fkKeyCol(j)+" "+col.Type)
		sel = append(sel, fmt.Sprintf("TRY_CAST(%s AS %s) AS %s", duck.Ident(pc[j]), col.Type, fkKeyCol(j)))
		notNull = append(notNull, duck.Ident(pc[j])+" IS NOT NULL")
	}
	parts, err := ParentPartitions(ctx, env, parent, d, fk.Window())
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range parts {
		paths = append(paths, p.FilePaths()...)
	}
	if len(paths) == 0 {
		return parts, s.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (%s)", name, strings.Join(defs, ", ")))
	}
	locals, err := lake.Localize(ctx, env.Lake, paths, work)
	if err != nil {
		return nil, err
	}
	return parts, s.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s AS SELECT DISTINCT %s FROM read_parquet(%s, hive_partitioning = false) WHERE %s",
		name, strings.Join(sel, ", "), duck.StrList(locals), strings.Join(notNull, " AND ")))
}

// parentsDigest identifies the parent partitions a foreign key was checked
// against by value and file checksums, which publish keeps: a staged partition
// and its commit have the same digest, a republished one another.
func parentsDigest(parts []*lake.Partition) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\n", p.Manifest.Partition)
		for _, f := range p.Manifest.Files {
			fmt.Fprintf(h, "%d %d %s\n", f.Rows, f.Bytes, f.CRC32C)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
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
