package bronze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// ValidateOptions says which bronze partition `worker bronze validate` checks.
type ValidateOptions struct {
	Table     string
	Partition string
	// Since, when set (YYYY-MM-DD), also requires a manifest for every date from
	// Since to Partition (the coverage check).
	Since string
	// Wait, when positive, polls for the manifest until it appears or Wait elapses;
	// a timeout is "nothing to do" (fail.Skip, exit 4).
	Wait time.Duration
	// PollInterval is the pause between polls; default DefaultPollInterval.
	PollInterval time.Duration
}

// Check names of the bronze gate's report.
const (
	CheckManifestExists   = "manifest_exists"
	CheckManifestParses   = "manifest_parses"
	CheckFilesInside      = "files_inside_partition"
	CheckFilesExist       = "files_exist"
	CheckFileSizes        = "file_sizes"
	CheckFileChecksums    = "file_checksums"
	CheckFilesReadable    = "files_readable"
	CheckRowCount         = "row_count"
	CheckSchemaColumns    = "schema_columns"
	CheckSchemaTypes      = "schema_types"
	CheckSchemaNewColumns = "schema_new_columns"
	CheckCoverage         = "coverage"
	CheckManifestSchema   = "manifest_schema"
	CheckNotEmpty         = "not_empty"
)

// maxListed bounds how many items a check's message lists (its observed value
// keeps them all).
const maxListed = 10

// Validate is the bronze gate: it checks a partition's manifest, files, row counts
// and schema against the spec (and, with Since, that no date is missing), writes
// the validation report and the audit, and returns fail.Data naming the failed
// checks when the partition must not go on to silver. It changes nothing in the
// lake but the report and the audit.
func Validate(ctx context.Context, env *tasks.Env, o ValidateOptions) (*audit.Record, *audit.Report, error) {
	tg, err := resolve(env, o.Table, o.Partition)
	if err == nil {
		err = checkValidateOptions(o)
	}
	if err != nil {
		// No audit or report: a bad table, partition or option names no audit path.
		rep := &audit.Report{RunID: env.RunID, Task: spec.TaskBronzeValidate, Table: o.Table, Partition: o.Partition}
		return failedRecord(env, spec.TaskBronzeValidate, o.Table, o.Partition, err), rep, err
	}
	return env.Gate(ctx, spec.TaskBronzeValidate, "bronze validate", o.Table, o.Partition, func(rec *audit.Record, rep *audit.Report, log *slog.Logger) error {
		arrived := true
		if o.Wait > 0 {
			poll := o.PollInterval
			if poll <= 0 {
				poll = DefaultPollInterval
			}
			var err error
			arrived, err = waitForObject(ctx, env.Lake, tg.manifestPath(), o.Wait, poll)
			if err != nil {
				err = fmt.Errorf("bronze %s partition %s: wait for manifest: %w", tg.table.Name, tg.value, err)
				log.Error("bronze validate stopped", "error", oneLine(err.Error()))
				return err
			}
		}
		if !arrived {
			msg := fmt.Sprintf("manifest did not arrive within %s", o.Wait)
			rep.Add(audit.Check{Name: CheckManifestExists, Status: audit.Fail, Observed: false, Threshold: o.Wait.String(), Message: msg})
			log.Warn("bronze manifest did not arrive: skipping", "wait", o.Wait.String(), "manifest", tg.manifestPath())
			return fail.Skip(fmt.Errorf("bronze %s partition %s: %s", tg.table.Name, tg.value, msg))
		}
		v := &validator{env: env, tg: tg, log: log, rep: rep, since: o.Since}
		if err := v.run(ctx); err != nil {
			err = fmt.Errorf("bronze validate %s partition %s: %w", tg.table.Name, tg.value, err)
			log.Error("bronze validate stopped", "error", oneLine(err.Error()))
			return err
		}
		rec.RowsIn, rec.RowsOut = v.rowsIn, v.rowsOut
		rec.Inputs = append(rec.Inputs, v.inputs...)
		rep.Finish(env.Clock()) // the verdict outcome logs
		return v.outcome()
	})
}

func checkValidateOptions(o ValidateOptions) error {
	if o.Wait < 0 {
		return fail.Usage(fmt.Errorf("bronze %s: wait %s is negative", o.Table, o.Wait))
	}
	if o.Since != "" {
		if _, err := lake.ParseDate(o.Since); err != nil {
			return fail.Usage(fmt.Errorf("bronze %s: since: %w", o.Table, err))
		}
		if o.Since > o.Partition {
			return fail.Usage(fmt.Errorf("bronze %s: since %s is after partition %s", o.Table, o.Since, o.Partition))
		}
	}
	return nil
}

// waitForObject polls for p every poll until it exists (true) or wait elapses (false).
func waitForObject(ctx context.Context, l lake.Lake, p string, wait, poll time.Duration) (bool, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		_, err := l.Stat(ctx, p)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, lake.ErrNotExist) {
			return false, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			// One last look: the manifest may have landed during the final pause.
			if _, err := l.Stat(ctx, p); err == nil {
				return true, nil
			}
			return false, nil
		case <-tick.C:
		}
	}
}

// validator runs the checks of one partition into a report.
type validator struct {
	env   *tasks.Env
	tg    target
	log   *slog.Logger
	rep   *audit.Report
	since string

	manifestMissing bool
	rowsIn, rowsOut int64
	inputs          []audit.IO
}

func (v *validator) add(name, status string, observed, threshold any, msg string) {
	msg = oneLine(msg)
	v.rep.Add(audit.Check{Name: name, Status: status, Observed: observed, Threshold: threshold, Message: msg})
}

// outcome logs the gate's verdict and returns fail.Data naming the failed checks.
func (v *validator) outcome() error {
	failed := v.rep.FailedMessages()
	if len(failed) == 0 {
		v.log.Info("bronze partition passed validation", "rows", v.rowsIn, "files", len(v.inputs), "status", v.rep.Status)
		return nil
	}
	var err error
	if v.manifestMissing {
		// The common case gets the plainest message.
		msg := fmt.Sprintf("manifest %s not found", v.tg.manifestPath())
		if rest := failed[1:]; len(rest) > 0 {
			msg += "; " + strings.Join(rest, "; ")
		}
		err = fmt.Errorf("bronze %s partition %s: %s", v.tg.table.Name, v.tg.value, msg)
	} else {
		err = fmt.Errorf("bronze validate %s partition %s: %s", v.tg.table.Name, v.tg.value, strings.Join(failed, "; "))
	}
	v.log.Error("bronze partition failed validation", "failed", v.rep.Failed(), "error", err.Error())
	return fail.Data(err)
}

// run adds every check to the report; it returns an error only when the checks
// could not be made (I/O), not when they fail.
func (v *validator) run(ctx context.Context) error {
	mp := v.tg.manifestPath()
	raw, err := lake.ReadAll(ctx, v.env.Lake, mp)
	if errors.Is(err, lake.ErrNotExist) {
		v.manifestMissing = true
		v.add(CheckManifestExists, audit.Fail, false, true, fmt.Sprintf("manifest %s not found", mp))
		return v.coverage(ctx)
	}
	if err != nil {
		return fmt.Errorf("read manifest %s: %w", mp, err)
	}
	v.add(CheckManifestExists, audit.Pass, true, true, "manifest "+mp+" exists")

	m, ok := v.parseManifest(raw)
	if !ok {
		return v.coverage(ctx)
	}
	v.rowsIn = m.RowCount

	files := v.filesInside(m)
	present, err := v.statFiles(ctx, files)
	if err != nil {
		return err
	}
	if err := v.readFiles(ctx, m, files, present); err != nil {
		return err
	}
	return v.coverage(ctx)
}

// parseManifest checks the manifest's JSON and identity; false when nothing more
// can be checked.
func (v *validator) parseManifest(raw []byte) (*lake.Manifest, bool) {
	var m lake.Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		v.add(CheckManifestParses, audit.Fail, "invalid JSON", "a JSON manifest", "manifest is not valid JSON: "+err.Error())
		return nil, false
	}
	if m.Version != lake.ManifestVersion {
		v.add(CheckManifestParses, audit.Fail, m.Version, lake.ManifestVersion,
			fmt.Sprintf("manifest version is %d, want %d", m.Version, lake.ManifestVersion))
		return nil, false
	}
	var problems []string
	if m.Table != v.tg.table.Name {
		problems = append(problems, fmt.Sprintf("table is %q, want %q", m.Table, v.tg.table.Name))
	}
	if len(m.Partition) != 1 || m.Partition[v.tg.key] != v.tg.value {
		problems = append(problems, fmt.Sprintf("partition is %s, want {%s: %s}", partitionString(m.Partition), v.tg.key, v.tg.value))
	}
	for _, f := range m.Files {
		if f.Rows < 0 || f.Bytes < 0 {
			problems = append(problems, fmt.Sprintf("file %s has negative rows or bytes", f.Path))
		}
	}
	if m.RowCount < 0 {
		problems = append(problems, fmt.Sprintf("row_count %d is negative", m.RowCount))
	}
	if len(problems) > 0 {
		v.add(CheckManifestParses, audit.Fail, problems, "version 1, this table and partition", strings.Join(problems, "; "))
	} else {
		v.add(CheckManifestParses, audit.Pass, len(m.Files), nil, fmt.Sprintf("manifest lists %d file(s), %d row(s)", len(m.Files), m.RowCount))
	}
	return &m, true
}

func partitionString(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + p[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// filesInside keeps the listed files whose paths stay inside the partition folder;
// the others are never opened.
func (v *validator) filesInside(m *lake.Manifest) []lake.File {
	var inside []lake.File
	var bad []string
	seen := map[string]bool{}
	for _, f := range m.Files {
		switch {
		case lake.CheckPath(f.Path) != nil:
			bad = append(bad, f.Path)
		case f.Path == lake.ManifestFile || seen[f.Path]:
			bad = append(bad, f.Path)
		default:
			seen[f.Path] = true
			inside = append(inside, f)
		}
	}
	if len(bad) > 0 {
		v.add(CheckFilesInside, audit.Fail, bad, "relative paths inside "+v.tg.dir,
			fmt.Sprintf("file path(s) %s leave the partition folder %s, are not canonical, repeat, or name the manifest", listed(bad), v.tg.dir))
	} else {
		v.add(CheckFilesInside, audit.Pass, len(inside), nil, "every file path stays inside "+v.tg.dir)
	}
	return inside
}

// statFiles checks existence, sizes and checksums; it returns which files exist.
func (v *validator) statFiles(ctx context.Context, files []lake.File) ([]bool, error) {
	states, err := lake.StatFiles(ctx, v.env.Lake, v.tg.dir, files)
	if err != nil {
		return nil, err
	}
	present := make([]bool, len(files))
	var missing, badSize, badSum []string
	for i, s := range states {
		f, info := s.File, s.Info
		if s.Missing {
			missing = append(missing, f.Path)
			continue
		}
		present[i] = true
		v.inputs = append(v.inputs, audit.IO{URI: v.env.Lake.URI(s.Path), Rows: f.Rows})
		if info.Size != f.Bytes {
			badSize = append(badSize, fmt.Sprintf("%s has %d bytes, manifest says %d", f.Path, info.Size, f.Bytes))
		}
		if info.CRC32C != f.CRC32C {
			badSum = append(badSum, fmt.Sprintf("%s has crc32c %s, manifest says %q", f.Path, info.CRC32C, f.CRC32C))
		}
	}
	if len(missing) > 0 {
		v.add(CheckFilesExist, audit.Fail, missing, nil, fmt.Sprintf("listed file(s) %s not found in %s", listed(missing), v.tg.dir))
	} else {
		v.add(CheckFilesExist, audit.Pass, len(files), nil, fmt.Sprintf("%d listed file(s) exist", len(files)))
	}
	if len(badSize) > 0 {
		v.add(CheckFileSizes, audit.Fail, badSize, "sizes the manifest lists", listed(badSize))
	} else {
		v.add(CheckFileSizes, audit.Pass, nil, nil, "file sizes match the manifest")
	}
	if len(badSum) > 0 {
		v.add(CheckFileChecksums, audit.Fail, badSum, "checksums the manifest lists", listed(badSum))
	} else {
		v.add(CheckFileChecksums, audit.Pass, nil, nil, "file checksums match the manifest")
	}
	return present, nil
}

// readFiles reads the existing files with DuckDB: readability, row counts, schema.
func (v *validator) readFiles(ctx context.Context, m *lake.Manifest, files []lake.File, present []bool) error {
	// A sandboxed session (tasks.Env.OpenScratch): file paths come from the
	// manifest, which is untrusted, and downloads land in the scratch folder.
	sc, err := v.env.OpenScratch(ctx, "bronze-validate-")
	if err != nil {
		return err
	}
	defer sc.Close()
	s := sc.Session
	types, err := specTypes(ctx, s, v.env, v.tg.table)
	if err != nil {
		return err
	}
	local := newLocalFiles(v.env.Lake, sc.Dir)
	defer local.Close()

	var unreadable, fileRows, missingCols, badTypes, newCols, schemaLies []string
	var listedSum, counted int64
	allCounted := len(files) == len(m.Files)
	for _, f := range m.Files {
		listedSum += f.Rows
	}
	read := 0
	for i, f := range files {
		if !present[i] {
			allCounted = false
			continue
		}
		lp, err := local.Path(ctx, path.Join(v.tg.dir, f.Path))
		if err != nil {
			return err
		}
		// Without hive_partitioning=false DuckDB would add ingest_dt from the folder name.
		from := "read_parquet(" + duck.Str(lp) + ", hive_partitioning = false)"
		n, err := s.Int(ctx, "SELECT count(*) FROM "+from)
		var cols []duck.Column
		if err == nil {
			cols, err = describe(ctx, s, from)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Name the file as the manifest does, not by its local (maybe downloaded) path.
			msg := strings.ReplaceAll(oneLine(firstLine(err.Error())), lp, f.Path)
			unreadable = append(unreadable, fmt.Sprintf("%s: %s", f.Path, msg))
			allCounted = false
			continue
		}
		read++
		counted += n
		if n != f.Rows {
			fileRows = append(fileRows, fmt.Sprintf("%s: manifest says %d rows, file holds %d", f.Path, f.Rows, n))
		}
		byName := make(map[string]string, len(cols))
		for _, c := range cols {
			byName[c.Name] = c.Type
		}
		for j, c := range v.tg.table.Columns {
			typ, ok := byName[c.Name]
			switch {
			case !ok:
				missingCols = append(missingCols, fmt.Sprintf("%s lacks column %s", f.Path, c.Name))
			case typ != types[j]:
				badTypes = append(badTypes, fmt.Sprintf("%s column %s is %s, spec says %s", f.Path, c.Name, typ, types[j]))
			}
		}
		for _, c := range cols {
			if _, ok := v.tg.table.Column(c.Name); !ok {
				newCols = append(newCols, fmt.Sprintf("%s has column %s %s", f.Path, c.Name, c.Type))
			}
		}
		schemaLies = append(schemaLies, manifestSchemaLies(m.Schema, f.Path, cols, v.tg.table, types)...)
	}
	v.rowsOut = counted

	if len(unreadable) > 0 {
		v.add(CheckFilesReadable, audit.Fail, unreadable, "readable Parquet", "unreadable Parquet file(s): "+listed(unreadable))
	} else {
		v.add(CheckFilesReadable, audit.Pass, read, nil, fmt.Sprintf("%d file(s) read as Parquet", read))
	}

	// Say each discrepancy once: the total first, then what it does not already explain.
	var rowMsgs []string
	total := allCounted && counted != m.RowCount
	if total {
		rowMsgs = append(rowMsgs, fmt.Sprintf("manifest says %d rows, files hold %d", m.RowCount, counted))
	}
	if !total || len(m.Files) > 1 {
		rowMsgs = append(rowMsgs, fileRows...)
	}
	if listedSum != m.RowCount && !(allCounted && len(fileRows) == 0) {
		rowMsgs = append(rowMsgs, fmt.Sprintf("manifest row_count %d differs from the sum of its files' rows %d", m.RowCount, listedSum))
	}
	obs := map[string]int64{"manifest": m.RowCount, "files": counted}
	if len(rowMsgs) > 0 {
		v.add(CheckRowCount, audit.Fail, obs, "equal", strings.Join(rowMsgs, "; "))
	} else {
		msg := fmt.Sprintf("%d rows, as the manifest says", counted)
		if !allCounted {
			msg = fmt.Sprintf("%d rows in the readable files, as the manifest says for them", counted)
		}
		v.add(CheckRowCount, audit.Pass, obs, "equal", msg)
	}

	if len(missingCols) > 0 {
		v.add(CheckSchemaColumns, audit.Fail, missingCols, "every spec column", "missing column(s): "+listed(missingCols))
	} else {
		v.add(CheckSchemaColumns, audit.Pass, read, nil, "every spec column is present")
	}
	if len(badTypes) > 0 {
		v.add(CheckSchemaTypes, audit.Fail, badTypes, "the spec's types", "column(s) of another type: "+listed(badTypes))
	} else {
		v.add(CheckSchemaTypes, audit.Pass, read, nil, "column types match the spec")
	}
	// Readers (silver, the catalog's empty views) trust the manifest's schema, so
	// one that disagrees with its files is a lying commit point.
	switch {
	case len(m.Schema) == 0:
		v.add(CheckManifestSchema, audit.Pass, 0, nil, "the manifest lists no schema")
	case len(schemaLies) > 0:
		v.add(CheckManifestSchema, audit.Fail, schemaLies, "the files' Parquet schema",
			"the manifest's schema disagrees with its files: "+listed(schemaLies))
	default:
		v.add(CheckManifestSchema, audit.Pass, len(m.Schema), nil, "the manifest's schema matches its files")
	}
	if allCounted && counted == 0 && m.RowCount == 0 {
		if v.tg.table.AllowEmpty {
			v.add(CheckNotEmpty, audit.Pass, 0, "allow_empty", "the partition holds no rows, which the spec allows (allow_empty)")
		} else {
			v.add(CheckNotEmpty, audit.Fail, 0, "at least 1 row",
				"the partition holds no rows (an extract that delivered nothing?); set allow_empty: true on bronze table "+v.tg.table.Name+" if quiet days are normal")
		}
	} else {
		v.add(CheckNotEmpty, audit.Pass, counted, "at least 1 row", fmt.Sprintf("%d rows", counted))
	}

	if len(newCols) > 0 {
		v.add(CheckSchemaNewColumns, audit.Warn, newCols, "only spec columns",
			"column(s) not in the spec, kept in bronze and ignored by silver until the spec names them: "+listed(newCols))
	} else {
		v.add(CheckSchemaNewColumns, audit.Pass, 0, nil, "no columns beyond the spec")
	}
	return nil
}

// manifestSchemaLies lists where a manifest's schema disagrees with one file's
// columns: a listed column the file lacks or holds as another type. Columns the
// file has beyond the list are not lies (bronze import lists the spec's columns;
// schema_new_columns reports the rest), and a disagreement the spec checks
// already report (the spec's column missing or of another type) is not repeated.
// Types compare case-insensitively, as DuckDB names them.
func manifestSchemaLies(schema []lake.Field, file string, cols []duck.Column, t *spec.BronzeTable, specTypes []string) []string {
	byName := make(map[string]string, len(cols))
	for _, c := range cols {
		byName[c.Name] = c.Type
	}
	var out []string
	for _, f := range schema {
		typ, ok := byName[f.Name]
		if j := columnIndex(t, f.Name); j >= 0 && (!ok || typ != specTypes[j]) {
			continue // schema_columns or schema_types says it
		}
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s lacks column %s the manifest lists", file, f.Name))
		case !strings.EqualFold(typ, f.Type):
			out = append(out, fmt.Sprintf("%s column %s is %s, the manifest says %s", file, f.Name, typ, f.Type))
		}
	}
	return out
}

// columnIndex is the position of a spec column in the bronze table, or -1.
func columnIndex(t *spec.BronzeTable, name string) int {
	for j, c := range t.Columns {
		if c.Name == name {
			return j
		}
	}
	return -1
}

// coverage requires a manifest for every date from Since to the partition.
func (v *validator) coverage(ctx context.Context) error {
	if v.since == "" {
		return nil
	}
	have, err := lake.CommittedPartitions(ctx, v.env.Lake, lake.Bronze, v.tg.table.Name, v.tg.key)
	if err != nil {
		return fmt.Errorf("list bronze partitions of %s: %w", v.tg.table.Name, err)
	}
	set := make(map[string]bool, len(have))
	for _, d := range have {
		set[d] = true
	}
	from, _ := lake.ParseDate(v.since)
	to, _ := lake.ParseDate(v.tg.value)
	var missing []string
	days := 0
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		days++
		if s := d.Format(time.DateOnly); !set[s] {
			missing = append(missing, s)
		}
	}
	threshold := fmt.Sprintf("every date from %s to %s", v.since, v.tg.value)
	if len(missing) > 0 {
		v.add(CheckCoverage, audit.Fail, missing, threshold,
			fmt.Sprintf("no bronze manifest for %d of %d date(s) since %s: %s", len(missing), days, v.since, listed(missing)))
	} else {
		v.add(CheckCoverage, audit.Pass, days, threshold, fmt.Sprintf("every date from %s to %s has a bronze manifest", v.since, v.tg.value))
	}
	return nil
}

// listed joins items for a message, eliding past maxListed.
func listed(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
}

// firstLine drops DuckDB's context lines (LINE 1: ...) from an error message.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
