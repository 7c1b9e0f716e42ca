package silver

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path"
	"strings"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// sampleKeys is how many failing keys a check shows.
const sampleKeys = 5

// Validate is the silver gate: it audits what this run's build staged for the
// partition (conservation, file integrity, PK uniqueness, FK integrity, quarantine
// rate and row loss against the spec's thresholds) and writes the report. A breach
// returns a data error (exit 3); publish refuses a partition whose gate failed.
func Validate(ctx context.Context, env *tasks.Env, o Options) (*audit.Record, *audit.Report, error) {
	t, _, err := resolve(env, o)
	if err != nil {
		return nil, nil, err
	}
	judged := tasks.Judged{Key: t.Key(), Layers: []string{lake.Silver, lake.Quarantine}}
	return env.GateStaged(ctx, spec.TaskSilverValidate, "silver validate", t.Name, o.Partition, judged, func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error {
		if err := validate(ctx, env, t, o.Partition, rec, rep); err != nil {
			return err
		}
		log.Info("silver gate checked", "checks", len(rep.Checks), "rows_out", rec.RowsOut)
		return nil
	})
}

func validate(ctx context.Context, env *tasks.Env, t *spec.SilverTable, d string, rec *audit.Record, rep *audit.Report) error {
	l := env.Lake
	silverPart, err := lake.ReadStaged(ctx, l, env.RunID, lake.Silver, t.Name, t.Key(), d)
	if err != nil {
		rep.Add(audit.Check{Name: "staged", Status: audit.Fail, Observed: "missing",
			Message: fmt.Sprintf("nothing staged by run %s (run silver build first): %v", env.RunID, err)})
		return nil
	}
	quarPart, err := lake.ReadStaged(ctx, l, env.RunID, lake.Quarantine, t.Name, t.Key(), d)
	if err != nil {
		rep.Add(audit.Check{Name: "staged", Status: audit.Fail, Observed: "quarantine missing",
			Message: fmt.Sprintf("quarantine of run %s not staged: %v", env.RunID, err)})
		return nil
	}
	rep.Add(audit.Check{Name: "staged", Status: audit.Pass, Observed: "present", Message: "silver and quarantine staged"})

	build := silverPart.Manifest.Build
	if build == nil || quarPart.Manifest.Build == nil || !sameCounts(build, quarPart.Manifest.Build) {
		rep.Add(audit.Check{Name: "build_counts", Status: audit.Fail, Observed: "missing",
			Message: fmt.Sprintf("the staged manifests of run %s do not carry one build's counts (rebuild with this worker)", env.RunID)})
		return nil
	}
	rec.RowsIn, rec.RowsOut = build.RowsIn, build.RowsOut
	rec.RowsQuarantined, rec.RowsDeduplicated = build.RowsQuarantined, build.RowsDeduplicated
	for _, f := range silverPart.FilePaths() {
		rec.Inputs = append(rec.Inputs, audit.IO{URI: l.URI(f)})
	}

	// The staged quarantine holds the quarantined rows and the deduplicated ones.
	conserved := build.RowsIn == build.RowsOut+build.RowsQuarantined+build.RowsDeduplicated &&
		silverPart.Manifest.RowCount == build.RowsOut && quarPart.Manifest.RowCount == build.RowsQuarantined+build.RowsDeduplicated
	rep.Add(check("conservation", conserved,
		fmt.Sprintf("in=%d out=%d quarantined=%d deduplicated=%d", build.RowsIn, build.RowsOut, build.RowsQuarantined, build.RowsDeduplicated),
		"rows_in == rows_out + rows_quarantined + rows_deduplicated",
		fmt.Sprintf("rows_in %d, rows_out %d (staged %d), quarantined %d + deduplicated %d (staged %d in quarantine)",
			build.RowsIn, build.RowsOut, silverPart.Manifest.RowCount, build.RowsQuarantined, build.RowsDeduplicated, quarPart.Manifest.RowCount)))

	var bad []string
	for _, part := range []*lake.Partition{silverPart, quarPart} {
		changed, err := lake.ChangedFiles(ctx, l, part)
		if err != nil {
			return err
		}
		bad = append(bad, changed...)
	}
	rep.Add(check("files_intact", len(bad) == 0, len(bad), 0, describe(bad, "staged files missing or changed: ")))
	if len(bad) > 0 {
		return nil
	}

	// The build counted every row's fate; the gate judges those counts against the
	// staged files' Parquet footers and reads data only where the footer cannot
	// answer (pk_unique, and a foreign key whose parents changed since the build).
	sc, err := env.OpenScratch(ctx, "silver-validate-")
	if err != nil {
		return err
	}
	defer sc.Close()
	work, s := sc.Dir, sc.Session
	locals, err := lake.Localize(ctx, l, silverPart.FilePaths(), work)
	if err != nil {
		return err
	}
	files := duck.StrList(locals)
	staged := "read_parquet(" + files + ", hive_partitioning = false)"
	n, err := s.Int(ctx, "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata("+files+")")
	if err != nil {
		return fmt.Errorf("silver validate %s partition %s: read staged files: %w", t.Name, d, err)
	}
	rep.Add(check("row_count", n == silverPart.Manifest.RowCount, n, silverPart.Manifest.RowCount,
		fmt.Sprintf("files hold %d rows, manifest says %d", n, silverPart.Manifest.RowCount)))

	pk := make([]string, len(t.PrimaryKey))
	pkLits := make([]string, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		pk[i] = duck.Ident(k)
		pkLits[i] = duck.Str(k)
	}
	// The footer's null counts answer pk_not_null; without them (or with a NULL
	// found) the key columns alone are read for the exact row count.
	var nullKeys int64
	var nullCount, noStats sql.NullInt64
	if err := s.Conn.QueryRowContext(ctx, fmt.Sprintf("SELECT sum(stats_null_count), count(*) FILTER (stats_null_count IS NULL) FROM parquet_metadata(%s) WHERE path_in_schema IN (%s)",
		files, strings.Join(pkLits, ", "))).Scan(&nullCount, &noStats); err != nil {
		return err
	}
	if nullCount.Int64 > 0 || noStats.Int64 > 0 {
		if nullKeys, err = s.Int(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s IS NULL", staged, strings.Join(pk, " IS NULL OR "))); err != nil {
			return err
		}
	}
	rep.Add(check("pk_not_null", nullKeys == 0, nullKeys, 0, fmt.Sprintf("%d rows with a NULL primary key", nullKeys)))
	// The build keeps one row per key, but uniqueness is the one property of the
	// survivors that no count or footer proves, so the gate groups the key columns
	// (and reads no other column).
	keyExpr := "concat_ws('|', " + strings.Join(pk, ", ") + ")"
	dups, err := sample(ctx, s, fmt.Sprintf("SELECT %s FROM %s GROUP BY ALL HAVING count(*) > 1", keyExpr, staged))
	if err != nil {
		return err
	}
	c := check("pk_unique", len(dups.keys) == 0, dups.total, 0, describe(dups.keys, fmt.Sprintf("%d primary keys occur more than once, e.g. ", dups.total)))
	c.SampleKeys = dups.keys
	rep.Add(c)

	for i, fk := range t.ForeignKeys {
		rows, keys, top, err := fkOrphansInSilver(ctx, env, s, t, fk, i, d, build, staged, work, rec)
		if err != nil {
			return err
		}
		rep.Add(fkCheck(fk, build.Orphans, rows, keys, top))
	}

	// The cause behind the rates comes from the data: the quarantine this run staged.
	var why reasonsOf
	if quarPart.Manifest.RowCount > 0 {
		qlocals, err := lake.Localize(ctx, l, quarPart.FilePaths(), work)
		if err != nil {
			return err
		}
		if err := s.Exec(ctx, "CREATE TEMP VIEW quarantine AS SELECT * FROM read_parquet("+duck.StrList(qlocals)+", hive_partitioning = false, union_by_name = true)"); err != nil {
			return fmt.Errorf("silver validate %s partition %s: read staged quarantine: %w", t.Name, d, err)
		}
		if why, err = quarantineReasons(ctx, s, t); err != nil {
			return fmt.Errorf("silver validate %s partition %s: quarantine reasons: %w", t.Name, d, err)
		}
	}
	th := t.Thresholds
	q := rateCheck("quarantine_rate", build.RowsQuarantined, build.RowsIn, th.MaxQuarantineRate, th.MinRowsForRate,
		fmt.Sprintf("%d of %d rows quarantined", build.RowsQuarantined, build.RowsIn), why.message())
	q.Reasons = why.top
	rep.Add(q)
	lossCause := why.message()
	if q.Status == audit.Fail {
		lossCause = "" // the one-line error says it once, under quarantine_rate
	}
	rep.Add(rateCheck("row_loss", build.RowsIn-build.RowsOut, build.RowsIn, th.MaxRowLoss, th.MinRowsForRate,
		fmt.Sprintf("%d of %d rows lost: %d quarantined, %d deduplicated", build.RowsIn-build.RowsOut, build.RowsIn, build.RowsQuarantined, build.RowsDeduplicated),
		lossCause))
	return nil
}

// fkOrphansInSilver counts the staged rows whose key of fk has no parent. While
// the parent partitions the gate would read have the digest the build recorded,
// the build's count stands (it checked these very rows against these very keys)
// and no parent is read; otherwise (a parent republished in between, or a
// manifest without digests) the gate loads the parent keys and checks the data.
func fkOrphansInSilver(ctx context.Context, env *tasks.Env, s *duck.Session, t *spec.SilverTable, fk spec.ForeignKey, i int,
	d string, build *lake.BuildCounts, staged, work string, rec *audit.Record) (rows, keys int64, top []audit.KeyCount, err error) {
	parent, ok := env.Spec.SilverTable(fk.ParentTable())
	if !ok {
		return 0, 0, nil, fail.Usage(fmt.Errorf("silver %s: foreign key %s references unknown table %s", t.Name, fk.Name(), fk.References))
	}
	parts, err := ParentPartitions(ctx, env, parent, d, fk.Window())
	if err != nil {
		return 0, 0, nil, err
	}
	if want, ok := build.Parents[fk.Name()]; ok && want == parentsDigest(parts) {
		for _, o := range build.SilverOrphans {
			if o.ForeignKey == fk.Name() {
				return o.Rows, o.Keys, o.TopMissing, nil
			}
		}
		return 0, 0, nil, nil
	}
	if env.Log != nil {
		env.Log.Info("silver gate: foreign key parents changed since the build; checking the staged rows again",
			"table", t.Name, "partition", d, "foreign_key", fk.Name(), "references", fk.References)
	}
	name := fmt.Sprintf("fkkeys%d", i)
	if _, err := loadParentKeys(ctx, env, s, t, fk, d, name, work); err != nil {
		return 0, 0, nil, err
	}
	for _, p := range parts {
		rec.Inputs = append(rec.Inputs, audit.IO{URI: env.Lake.URI(path.Join(p.Dir, lake.ManifestFile)), Rows: p.Manifest.RowCount})
	}
	q := fmt.Sprintf("SELECT %s AS k FROM %s s ANTI JOIN %s p ON %s WHERE %s",
		keyText(fk.ChildColumns(), "s."), staged, name, fkJoin(fk, "s.", "p."), fkNotNull(fk, "s."))
	return missingKeys(ctx, s, q)
}

// sameCounts: silver and its quarantine were staged by one build.
func sameCounts(a, b *lake.BuildCounts) bool {
	return a.RowsIn == b.RowsIn && a.RowsOut == b.RowsOut && a.RowsQuarantined == b.RowsQuarantined && a.RowsDeduplicated == b.RowsDeduplicated
}

// fkCheck is the fk_integrity check of one foreign key. Its observed value is the
// orphan rows: those in silver (rows, keys, top: what the gate found in the staged
// rows) plus those the build quarantined. A quarantining key fails when silver
// holds an orphan; a warn key never fails but warns while silver holds orphans.
func fkCheck(fk spec.ForeignKey, built []audit.Orphans, rows, keys int64, top []audit.KeyCount) (c audit.Check) {
	// The threshold names the policy: orphans are counted, never bounded here (the
	// quarantine rate bounds what quarantine takes).
	c = audit.Check{Name: "fk_integrity:" + fk.Name(), Status: audit.Pass, Observed: rows, Threshold: spec.OnOrphanQuarantine, Message: "ok"}
	what := fmt.Sprintf("%s not found in %s", fk.Name(), fk.References)
	defer func() {
		for _, k := range c.TopMissing {
			c.SampleKeys = append(c.SampleKeys, k.Key)
		}
	}()
	if fk.Warns() {
		c.Threshold = spec.OnOrphanWarn
		if rows > 0 {
			c.Status, c.TopMissing = audit.Warn, top
			c.Message = fmt.Sprintf("%d rows kept in silver (on_orphan: warn) with %d keys of %s; most frequent: %s",
				rows, keys, what, keyCounts(top))
		}
		return c
	}
	if rows > 0 {
		c.Status, c.TopMissing = audit.Fail, top
		c.Message = fmt.Sprintf("%d rows in silver with %d keys of %s; most frequent: %s", rows, keys, what, keyCounts(top))
		return c
	}
	for _, o := range built {
		if o.ForeignKey == fk.Name() && o.Rows > 0 {
			c.Observed, c.TopMissing = o.Rows, o.TopMissing
			c.Message = fmt.Sprintf("%d rows quarantined as %s with %d keys of %s; most frequent: %s",
				o.Rows, fk.Reason(), o.Keys, what, keyCounts(o.TopMissing))
		}
	}
	return c
}

// keyCounts renders keys with their row counts: "SJU (4736), BQN (884)".
func keyCounts(top []audit.KeyCount) string {
	out := make([]string, len(top))
	for i, k := range top {
		out[i] = k.String()
	}
	return strings.Join(out, ", ")
}

type sampled struct {
	total int64
	keys  []string
}

// sample counts a query's rows and keeps the first few (as text) for the report.
func sample(ctx context.Context, s *duck.Session, q string) (sampled, error) {
	var out sampled
	n, err := s.Int(ctx, "SELECT count(*) FROM ("+q+")")
	if err != nil {
		return out, err
	}
	out.total = n
	if n == 0 {
		return out, nil
	}
	rows, err := s.Conn.QueryContext(ctx, fmt.Sprintf("SELECT * FROM (%s) ORDER BY 1 LIMIT %d", q, sampleKeys))
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var k *string
		if err := rows.Scan(&k); err != nil {
			return out, err
		}
		if k != nil {
			out.keys = append(out.keys, *k)
		}
	}
	return out, rows.Err()
}

func check(name string, ok bool, observed, threshold any, msg string) audit.Check {
	c := audit.Check{Name: name, Status: audit.Pass, Observed: observed, Threshold: threshold, Message: "ok"}
	if !ok {
		c.Status, c.Message = audit.Fail, msg
	}
	return c
}

func describe(items []string, prefix string) string {
	if len(items) == 0 {
		return "ok"
	}
	if len(items) > sampleKeys {
		return prefix + strings.Join(items[:sampleKeys], ", ") + fmt.Sprintf(" (and %d more)", len(items)-sampleKeys)
	}
	return prefix + strings.Join(items, ", ")
}
