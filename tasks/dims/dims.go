// Package dims takes dimension snapshots of committed base-silver tables behind a
// freshness gate (DESIGN sections 1 and 3): one row per primary key, the latest
// version as of a date, staged under _staging/<run_id>/dims/<dim>/snapshot_dt=<date>/
// and committed by `worker publish --layer dims` once the snapshot's own report
// has passed.
package dims

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"strings"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// Columns a snapshot adds to the source's silver columns.
const (
	// ColSourcePartition is the silver partition the row's version came from.
	ColSourcePartition = "source_partition"
	// ColSnapshotDT repeats the partition value in the rows, as silver does with its
	// partition column, so dims.<dim>_history can be read without hive partitioning.
	ColSnapshotDT = lake.DimsKey
)

// Options select the snapshot to take.
type Options struct {
	Dim string
	// Partition is the date D the snapshot is as of (every committed silver
	// partition <= D); default: the source's latest committed partition.
	Partition string
	// IfStale does nothing (a fail.Skip error, exit 4) when the latest published
	// snapshot is younger than the dim's max_age.
	IfStale bool
}

// resolve checks a dim name against the spec and returns the dim and its source.
func resolve(env *tasks.Env, name string) (*spec.Dim, *spec.SilverTable, error) {
	d, ok := env.Spec.Dim(name)
	if !ok {
		return nil, nil, fail.Usage(fmt.Errorf("dim %q is not in spec %s", name, env.Spec.File))
	}
	src, ok := env.Spec.SilverTable(d.Source)
	if !ok {
		return nil, nil, fail.Usage(fmt.Errorf("dims %s: source %q is not a base_silver table", d.Name, d.Source))
	}
	for _, c := range src.Columns {
		if c.Name == ColSourcePartition || c.Name == ColSnapshotDT {
			return nil, nil, fail.Usage(fmt.Errorf("dims %s: source column %s.%s clashes with the column the snapshot adds; rename it in the spec",
				d.Name, src.Name, c.Name))
		}
	}
	return d, src, nil
}

// Snapshot stages a snapshot of the dim's committed silver source as of date D and
// writes its validation report (row count against the source's distinct keys, key
// uniqueness, changes since the previous snapshot) and audit. With IfStale and a
// fresh latest snapshot it does nothing and returns a fail.Skip error (exit 4). A
// failed check returns a data error (exit 3), and publish then refuses the snapshot.
func Snapshot(ctx context.Context, env *tasks.Env, o Options) (*audit.Record, *audit.Report, error) {
	d, src, err := resolve(env, o.Dim)
	if err != nil {
		return nil, nil, err
	}
	day := o.Partition
	if day != "" {
		if _, err := lake.ParseDate(day); err != nil {
			return nil, nil, fail.Usage(fmt.Errorf("dims %s: %w", d.Name, err))
		}
	} else {
		vals, err := lake.CommittedPartitions(ctx, env.Lake, lake.Silver, src.Name, src.Key())
		if err != nil {
			return nil, nil, err
		}
		if len(vals) == 0 {
			return nil, nil, fail.Data(fmt.Errorf("dims %s: silver %s has no committed partition to snapshot (publish silver first)", d.Name, src.Name))
		}
		day = vals[len(vals)-1]
	}

	var fresh *Freshness
	if o.IfStale {
		fr, err := ReadFreshness(ctx, env, d)
		if err == nil && fr.Fresh {
			err = fail.Skip(fmt.Errorf("dims %s: latest snapshot %s (run %s) is %s old, younger than max_age %s: nothing to do",
				d.Name, fr.SnapshotDT, fr.RunID, Human(fr.Age), Human(fr.MaxAge)))
		}
		if err != nil {
			rec, err := env.Run(ctx, spec.TaskDimsSnapshot, d.Name, day, func(*audit.Record, *slog.Logger) error { return err })
			return rec, nil, err
		}
		fresh = fr
	}
	judged := tasks.Judged{Key: lake.DimsKey, Layers: []string{lake.Dims}}
	return env.GateStaged(ctx, spec.TaskDimsSnapshot, "dims snapshot", d.Name, day, judged, func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error {
		if fresh != nil {
			log.Info("dims stale: taking a snapshot", "freshness", fresh.String())
		}
		if err := snapshot(ctx, env, d, src, day, rec, rep); err != nil {
			// A report without checks would pass: say why there is nothing to publish.
			rep.Add(audit.Check{Name: "snapshot", Status: audit.Fail, Observed: "error", Message: err.Error()})
			return err
		}
		log.Info("dims snapshot staged", "rows", rec.RowsOut, "source_rows", rec.RowsIn)
		return nil
	})
}

func snapshot(ctx context.Context, env *tasks.Env, d *spec.Dim, src *spec.SilverTable, day string, rec *audit.Record, rep *audit.Report) error {
	l := env.Lake
	stageDir := lake.StagingDir(env.RunID, lake.Dims, d.Name, lake.DimsKey, day)
	// A retake must never leave an earlier attempt's manifest next to new files.
	if err := l.Delete(ctx, path.Join(stageDir, lake.ManifestFile)); err != nil {
		return err
	}

	// The source as of D: every committed partition <= D, found through commit points.
	vals, err := lake.CommittedPartitions(ctx, l, lake.Silver, src.Name, src.Key())
	if err != nil {
		return err
	}
	var parts []*lake.Partition
	for _, v := range vals {
		if v > day {
			continue
		}
		p, err := lake.ReadCommitted(ctx, l, lake.Silver, src.Name, src.Key(), v)
		if err != nil {
			return fmt.Errorf("dims %s: read silver %s partition %s: %w", d.Name, src.Name, v, err)
		}
		parts = append(parts, p)
		rec.Inputs = append(rec.Inputs, audit.IO{URI: l.URI(path.Join(p.Dir, lake.ManifestFile)), Rows: p.Manifest.RowCount})
	}
	if len(parts) == 0 {
		return fail.Data(fmt.Errorf("dims %s: silver %s has no committed partition on or before %s (publish silver first)", d.Name, src.Name, day))
	}

	sc, err := env.OpenScratch(ctx, "dims-"+d.Name+"-")
	if err != nil {
		return err
	}
	defer sc.Close()
	work, s := sc.Dir, sc.Session

	q := query{src: src, day: day}
	if err := q.loadSource(ctx, env, s, parts, work); err != nil {
		return fmt.Errorf("dims %s: read silver %s: %w", d.Name, src.Name, err)
	}
	if rec.RowsIn, err = s.Int(ctx, "SELECT count(*) FROM src"); err != nil {
		return err
	}
	keys, err := s.Int(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT DISTINCT %s FROM src)", q.pk("")))
	if err != nil {
		return err
	}
	if err := s.Exec(ctx, q.latest()); err != nil {
		return fmt.Errorf("dims %s: pick the latest versions: %w", d.Name, err)
	}

	rows, err := s.Int(ctx, "SELECT count(*) FROM snap")
	if err != nil {
		return err
	}
	m, mp, err := sc.Stage(ctx, l, tasks.Output{Query: fmt.Sprintf("SELECT * FROM snap ORDER BY %s", q.pk("")), Dir: stageDir, Rows: rows,
		Manifest: lake.Manifest{Version: lake.ManifestVersion, Table: d.Name, Layer: lake.Dims,
			Partition: map[string]string{lake.DimsKey: day}, Schema: q.schema(), Source: lake.Silver + "." + src.Name}})
	if err != nil {
		return fmt.Errorf("dims %s: write snapshot: %w", d.Name, err)
	}
	filePath := path.Join(stageDir, tasks.StagedFile)
	rec.RowsOut = rows
	rec.RowsDeduplicated = rec.RowsIn - rows // older versions of a key
	rec.Outputs = append(rec.Outputs, audit.IO{URI: l.URI(mp), Rows: rows})

	return q.checks(ctx, env, s, d, filePath, m.RowCount, keys, work, rep)
}

// checks audits the staged file (read back from the lake, not the local copy).
func (q query) checks(ctx context.Context, env *tasks.Env, s *duck.Session, d *spec.Dim, filePath string, manifestRows, keys int64, work string, rep *audit.Report) error {
	locals, err := lake.Localize(ctx, env.Lake, []string{filePath}, filepath.Join(work, "staged"))
	if err != nil {
		return err
	}
	if err := s.Exec(ctx, "CREATE TEMP VIEW staged AS SELECT * FROM read_parquet("+duck.StrList(locals)+", hive_partitioning = false)"); err != nil {
		return fmt.Errorf("dims %s: read the staged snapshot: %w", d.Name, err)
	}
	n, err := s.Int(ctx, "SELECT count(*) FROM staged")
	if err != nil {
		return err
	}
	rep.Add(check("row_count", n == keys && n == manifestRows, n, keys,
		fmt.Sprintf("the snapshot holds %d rows (manifest %d); silver %s has %d distinct keys as of %s", n, manifestRows, q.src.Name, keys, q.day)))

	nullKeys, err := s.Int(ctx, fmt.Sprintf("SELECT count(*) FROM staged WHERE %s IS NULL", strings.Join(q.pkCols(""), " IS NULL OR ")))
	if err != nil {
		return err
	}
	rep.Add(check("pk_not_null", nullKeys == 0, nullKeys, 0, fmt.Sprintf("%d rows with a NULL primary key", nullKeys)))
	dups, err := s.Int(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT %s FROM staged GROUP BY ALL HAVING count(*) > 1)", q.pk("")))
	if err != nil {
		return err
	}
	var dupKeys []string
	if dups > 0 {
		dupKeys, err = strings1(ctx, s, fmt.Sprintf("SELECT concat_ws('|', %s) FROM staged GROUP BY ALL HAVING count(*) > 1 ORDER BY 1 LIMIT 5", q.pk("")))
		if err != nil {
			return err
		}
	}
	c := check("key_unique", dups == 0, dups, 0, fmt.Sprintf("%d primary keys occur more than once, e.g. %s", dups, strings.Join(dupKeys, ", ")))
	c.SampleKeys = dupKeys
	rep.Add(c)

	ch, err := q.changes(ctx, env, s, d, work)
	if err != nil {
		return err
	}
	rep.Add(ch)
	return nil
}

// Changes counts what changed since the previous snapshot; it is observed, not gated.
type Changes struct {
	PreviousSnapshot string `json:"previous_snapshot,omitempty"`
	PreviousRun      string `json:"previous_run,omitempty"`
	NewKeys          int64  `json:"new_keys"`
	ChangedRows      int64  `json:"changed_rows"`
	RemovedKeys      int64  `json:"removed_keys"`
}

// changes compares the staged snapshot with the latest committed snapshot before D.
func (q query) changes(ctx context.Context, env *tasks.Env, s *duck.Session, d *spec.Dim, work string) (audit.Check, error) {
	c := audit.Check{Name: "changes", Status: audit.Pass}
	var ch Changes
	vals, err := lake.CommittedPartitions(ctx, env.Lake, lake.Dims, d.Name, lake.DimsKey)
	if err != nil {
		return c, err
	}
	var prev *lake.Partition
	for i := len(vals) - 1; i >= 0; i-- {
		if vals[i] < q.day {
			if prev, err = lake.ReadCommitted(ctx, env.Lake, lake.Dims, d.Name, lake.DimsKey, vals[i]); err != nil {
				return c, err
			}
			break
		}
	}
	if prev == nil {
		ch.NewKeys, err = s.Int(ctx, "SELECT count(*) FROM staged")
		c.Observed, c.Message = ch, fmt.Sprintf("first snapshot before %s: %d new keys", q.day, ch.NewKeys)
		return c, err
	}
	ch.PreviousSnapshot, ch.PreviousRun = prev.Manifest.PartitionValue(), prev.Manifest.RunID
	locals, err := lake.Localize(ctx, env.Lake, prev.FilePaths(), filepath.Join(work, "previous"))
	if err != nil {
		return c, err
	}
	if len(locals) == 0 {
		err = s.Exec(ctx, "CREATE TEMP VIEW prev AS SELECT * FROM staged WHERE false")
	} else {
		err = s.Exec(ctx, "CREATE TEMP VIEW prev AS SELECT * FROM read_parquet("+duck.StrList(locals)+", hive_partitioning = false, union_by_name = true)")
	}
	if err != nil {
		return c, fmt.Errorf("dims %s: read previous snapshot %s: %w", d.Name, ch.PreviousSnapshot, err)
	}
	prevCols, err := strings1(ctx, s, "SELECT column_name FROM (DESCRIBE prev)")
	if err != nil {
		return c, err
	}
	has := map[string]bool{}
	for _, n := range prevCols {
		has[n] = true
	}
	// Compare the silver columns both snapshots have; a column new in the spec
	// makes every row "changed" only if it has values, which is what changed.
	var a, b []string
	for _, col := range q.src.Columns {
		if has[col.Name] {
			a, b = append(a, "c."+duck.Ident(col.Name)), append(b, "p."+duck.Ident(col.Name))
		}
	}
	join := q.join("c.", "p.")
	if ch.NewKeys, err = s.Int(ctx, "SELECT count(*) FROM staged c ANTI JOIN prev p ON "+join); err != nil {
		return c, err
	}
	if ch.RemovedKeys, err = s.Int(ctx, "SELECT count(*) FROM prev p ANTI JOIN staged c ON "+join); err != nil {
		return c, err
	}
	if len(a) > 0 {
		if ch.ChangedRows, err = s.Int(ctx, fmt.Sprintf("SELECT count(*) FROM staged c JOIN prev p ON %s WHERE (%s) IS DISTINCT FROM (%s)",
			join, strings.Join(a, ", "), strings.Join(b, ", "))); err != nil {
			return c, err
		}
	}
	c.Observed = ch
	c.Message = fmt.Sprintf("since snapshot %s (run %s): %d new keys, %d changed rows, %d removed keys",
		ch.PreviousSnapshot, ch.PreviousRun, ch.NewKeys, ch.ChangedRows, ch.RemovedKeys)
	return c, nil
}

// query renders the snapshot's SQL for one source table and date.
type query struct {
	src *spec.SilverTable
	day string
}

// Internal columns of the source view: which partition and file a row came from.
const (
	colPart = "__dims_part"
	colFile = "__dims_file"
	colRow  = "__dims_row"
	colPath = "__dims_path"
)

func (q query) pkCols(qual string) []string {
	out := make([]string, len(q.src.PrimaryKey))
	for i, k := range q.src.PrimaryKey {
		out[i] = qual + duck.Ident(k)
	}
	return out
}

func (q query) pk(qual string) string { return strings.Join(q.pkCols(qual), ", ") }

func (q query) join(a, b string) string {
	var conds []string
	for _, k := range q.src.PrimaryKey {
		conds = append(conds, a+duck.Ident(k)+" = "+b+duck.Ident(k))
	}
	return strings.Join(conds, " AND ")
}

// loadSource creates the view src: the silver columns of every listed file, with
// the partition, the file's position and the row number each row came from. Files
// are matched to partitions by name, never by hive folders.
func (q query) loadSource(ctx context.Context, env *tasks.Env, s *duck.Session, parts []*lake.Partition, work string) error {
	var paths []string
	var values []string
	for _, p := range parts {
		for _, f := range p.FilePaths() {
			paths = append(paths, f)
			values = append(values, fmt.Sprintf("(%d, DATE %s)", len(values), duck.Str(p.Manifest.PartitionValue())))
		}
	}
	cols := make([]string, len(q.src.Columns))
	for i, c := range q.src.Columns {
		cols[i] = "r." + duck.Ident(c.Name)
	}
	if len(paths) == 0 {
		typed := make([]string, len(q.src.Columns))
		for i, c := range q.src.Columns {
			typed[i] = fmt.Sprintf("CAST(NULL AS %s) AS %s", c.Type, duck.Ident(c.Name))
		}
		return s.Exec(ctx, fmt.Sprintf("CREATE TEMP VIEW src AS SELECT %s, NULL::DATE AS %s, NULL::INTEGER AS %s, NULL::BIGINT AS %s WHERE false",
			strings.Join(typed, ", "), colPart, colFile, colRow))
	}
	locals, err := lake.Localize(ctx, env.Lake, paths, work)
	if err != nil {
		return err
	}
	rows := make([]string, len(locals))
	for i, p := range locals {
		rows[i] = fmt.Sprintf("(%s, %d)", duck.Str(p), i)
	}
	return s.Exec(ctx,
		fmt.Sprintf("CREATE TEMP TABLE srcparts (%s INTEGER, %s DATE)", colFile, colPart),
		"INSERT INTO srcparts VALUES "+strings.Join(values, ", "),
		fmt.Sprintf("CREATE TEMP TABLE srcfiles (%s VARCHAR, %s INTEGER)", colPath, colFile),
		"INSERT INTO srcfiles VALUES "+strings.Join(rows, ", "),
		fmt.Sprintf(`CREATE TEMP VIEW src AS SELECT %s, sp.%s, sf.%s, r.file_row_number AS %s
FROM read_parquet(%s, hive_partitioning = false, union_by_name = true, filename = %s, file_row_number = true) r
JOIN srcfiles sf ON r.%s = sf.%s
JOIN srcparts sp ON sf.%s = sp.%s`,
			strings.Join(cols, ", "), colPart, colFile, colRow,
			duck.StrList(locals), duck.Str(colPath),
			colPath, colPath, colFile, colFile))
}

// latest creates the table snap: per primary key the latest version, by highest
// partition, then the source's dedup.order_by, then source order.
func (q query) latest() string {
	order := []string{colPart + " DESC"}
	if q.src.Dedup != nil {
		for _, t := range q.src.Dedup.Terms() {
			dir := "ASC"
			if t.Desc {
				dir = "DESC"
			}
			order = append(order, duck.Ident(t.Column)+" "+dir+" NULLS LAST")
		}
	}
	order = append(order, colFile, colRow)
	cols := make([]string, len(q.src.Columns))
	for i, c := range q.src.Columns {
		cols[i] = duck.Ident(c.Name)
	}
	return fmt.Sprintf(`CREATE TEMP TABLE snap AS SELECT %s, %s AS %s, DATE %s AS %s FROM src
QUALIFY row_number() OVER (PARTITION BY %s ORDER BY %s) = 1`,
		strings.Join(cols, ", "), colPart, duck.Ident(ColSourcePartition), duck.Str(q.day), duck.Ident(ColSnapshotDT),
		q.pk(""), strings.Join(order, ", "))
}

// schema is the snapshot's columns: the silver columns, source_partition, snapshot_dt.
func (q query) schema() []lake.Field {
	out := make([]lake.Field, 0, len(q.src.Columns)+2)
	for _, c := range q.src.Columns {
		out = append(out, lake.Field{Name: c.Name, Type: c.Type})
	}
	return append(out, lake.Field{Name: ColSourcePartition, Type: "DATE"}, lake.Field{Name: ColSnapshotDT, Type: "DATE"})
}

func check(name string, ok bool, observed, threshold any, msg string) audit.Check {
	c := audit.Check{Name: name, Status: audit.Pass, Observed: observed, Threshold: threshold, Message: "ok"}
	if !ok {
		c.Status, c.Message = audit.Fail, msg
	}
	return c
}

// strings1 runs a query of one text column.
func strings1(ctx context.Context, s *duck.Session, q string) ([]string, error) {
	rows, err := s.Conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v *string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, *v)
		}
	}
	return out, rows.Err()
}
