package gold

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/tasks"
)

// AuditOptions select the partition whose audits to load.
type AuditOptions struct {
	Partition string
}

// AuditTable is ops.ops_task_audit: one row per audit and per validation report
// of a partition, partitioned by dt (the partition D the tasks worked on).
var AuditTable = warehouse.Table{Dataset: warehouse.DatasetOps, Name: warehouse.TableTaskAudit, PartitionBy: "dt",
	ClusterBy: []string{"task"}, Schema: []warehouse.Field{
		{Name: "dt", Type: "DATE"},
		{Name: "kind", Type: "VARCHAR"}, // audit | report
		{Name: "run_id", Type: "VARCHAR"},
		{Name: "task", Type: "VARCHAR"},
		{Name: "table_name", Type: "VARCHAR"},
		{Name: "status", Type: "VARCHAR"}, // success | failed (audits); pass | warn | fail (reports)
		{Name: "started_at", Type: "TIMESTAMP"},
		{Name: "finished_at", Type: "TIMESTAMP"},
		{Name: "duration_ms", Type: "BIGINT"},
		{Name: "rows_in", Type: "BIGINT"},
		{Name: "rows_out", Type: "BIGINT"},
		{Name: "rows_quarantined", Type: "BIGINT"},
		{Name: "rows_deduplicated", Type: "BIGINT"},
		{Name: "peak_rss_bytes", Type: "BIGINT"},
		{Name: "exit_code", Type: "BIGINT"},
		{Name: "error", Type: "VARCHAR"},
		{Name: "checks_failed", Type: "BIGINT"},
		{Name: "failed_checks", Type: "VARCHAR"}, // comma-separated names
		{Name: "spec_sha256", Type: "VARCHAR"},
		{Name: "worker_version", Type: "VARCHAR"},
		{Name: "uri", Type: "VARCHAR"},
		{Name: "record", Type: "VARCHAR"}, // the JSON as written
	}}

// Audit loads the audits (_audit/dt=D/**) and validation reports (_reports/dt=D/**)
// of partition D into ops.ops_task_audit, replacing that partition.
func Audit(ctx context.Context, env *tasks.Env, o AuditOptions) (*audit.Record, error) {
	if _, err := lake.ParseDate(o.Partition); err != nil {
		return nil, fail.Usage(fmt.Errorf("gold audit: %w", err))
	}
	return env.Run(ctx, spec.TaskGoldAudit, warehouse.TableTaskAudit, o.Partition, func(rec *audit.Record, log *slog.Logger) error {
		rows, err := readRecords(ctx, env.Lake, o.Partition)
		if err != nil {
			return fmt.Errorf("gold audit partition %s: %w", o.Partition, err)
		}
		rec.RowsIn = int64(len(rows))
		work, err := env.TempDir("gold-audit-")
		if err != nil {
			return err
		}
		defer removeAll(work)
		local := filepath.Join(work, "part-00000.parquet")
		if err := writeAuditParquet(ctx, env, o.Partition, rows, local); err != nil {
			return fmt.Errorf("gold audit partition %s: %w", o.Partition, err)
		}
		// BigQuery loads from GCS, so the file goes to the lake first (staging: gc
		// removes it once it is older than the grace period).
		p := path.Join("_staging", env.RunID, warehouse.DatasetOps, warehouse.TableTaskAudit, "dt="+o.Partition, "part-00000.parquet")
		if _, err := lake.Upload(ctx, env.Lake, local, p, lake.Precondition{}); err != nil {
			return err
		}
		w, err := Open(ctx, env)
		if err != nil {
			return err
		}
		defer w.Close()
		res, err := w.Load(ctx, warehouse.LoadRequest{Table: AuditTable, Partition: o.Partition, RunID: env.RunID,
			Sources: []warehouse.Source{{URI: env.Lake.URI(p), Local: local, Rows: int64(len(rows))}}})
		if err != nil {
			return fmt.Errorf("gold audit partition %s: %w", o.Partition, classify(err))
		}
		rec.RowsOut = res.Rows
		rec.Outputs = append(rec.Outputs, audit.IO{URI: res.URI, Rows: res.Rows})
		log.Info("audits loaded", append([]any{"rows", res.Rows}, jobAttrs(res)...)...)
		return nil
	})
}

// auditRow is one row of ops_task_audit.
type auditRow struct {
	kind, runID, task, table, status string
	started, finished                *time.Time
	duration, in, out, quar, dedup   int64
	rss, exit, checksFailed          int64
	errMsg, failed, sha, version     string
	uri, record                      string
}

// readRecords parses every audit and report JSON of partition D.
func readRecords(ctx context.Context, l lake.Lake, d string) ([]auditRow, error) {
	var out []auditRow
	for _, kind := range []string{"audit", "report"} {
		prefix := path.Join("_audit", "dt="+d) + "/"
		if kind == "report" {
			prefix = path.Join("_reports", "dt="+d) + "/"
		}
		objs, err := l.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if !strings.HasSuffix(o.Path, ".json") {
				continue
			}
			b, err := lake.ReadAll(ctx, l, o.Path)
			if err != nil {
				return nil, err
			}
			row, err := parseRecord(kind, b)
			if err != nil {
				return nil, fmt.Errorf("parse %s: %w", o.Path, err)
			}
			row.uri = l.URI(o.Path)
			out = append(out, row)
		}
	}
	return out, nil
}

func parseRecord(kind string, b []byte) (auditRow, error) {
	row := auditRow{kind: kind, record: string(bytes.TrimSpace(b))}
	if kind == "audit" {
		var r audit.Record
		if err := json.Unmarshal(b, &r); err != nil {
			return row, err
		}
		row.runID, row.task, row.table, row.status = r.RunID, r.Task, r.Table, r.Status
		row.started, row.finished = parseTime(r.StartedAt), parseTime(r.FinishedAt)
		row.duration, row.in, row.out, row.quar, row.dedup = r.DurationMS, r.RowsIn, r.RowsOut, r.RowsQuarantined, r.RowsDeduplicated
		row.rss, row.exit, row.errMsg, row.sha, row.version = r.PeakRSSBytes, int64(r.ExitCode), r.Error, r.SpecSHA256, r.WorkerVersion
		return row, nil
	}
	var r audit.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return row, err
	}
	row.runID, row.task, row.table, row.status = r.RunID, r.Task, r.Table, r.Status
	row.finished = parseTime(r.CreatedAt)
	failed := r.Failed()
	row.checksFailed, row.failed = int64(len(failed)), strings.Join(failed, ",")
	return row, nil
}

func parseTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

// writeAuditParquet writes the rows as a Parquet file with AuditTable's schema.
func writeAuditParquet(ctx context.Context, env *tasks.Env, d string, rows []auditRow, local string) error {
	s, err := duck.Open(ctx, env.Duck)
	if err != nil {
		return err
	}
	defer s.Close()
	cols := make([]string, len(AuditTable.Schema))
	marks := make([]string, len(AuditTable.Schema))
	for i, f := range AuditTable.Schema {
		cols[i] = duck.Ident(f.Name) + " " + f.Type
		marks[i] = "?"
	}
	if err := s.Exec(ctx, "CREATE TEMP TABLE a ("+strings.Join(cols, ", ")+")"); err != nil {
		return err
	}
	ins := "INSERT INTO a VALUES (CAST(? AS DATE), " + strings.Join(marks[1:], ", ") + ")"
	for _, r := range rows {
		args := []any{d, r.kind, r.runID, r.task, r.table, r.status, ts(r.started), ts(r.finished),
			r.duration, r.in, r.out, r.quar, r.dedup, r.rss, r.exit, null(r.errMsg), r.checksFailed, null(r.failed),
			null(r.sha), null(r.version), r.uri, r.record}
		if _, err := s.Conn.ExecContext(ctx, ins, args...); err != nil {
			return fmt.Errorf("stage audit row: %w", err)
		}
	}
	return s.Exec(ctx, fmt.Sprintf("COPY (SELECT * FROM a ORDER BY kind, task, table_name, run_id) TO %s (FORMAT parquet)", duck.Str(local)))
}

func ts(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func null(s string) any {
	if s == "" {
		return sql.NullString{}
	}
	return s
}
