// Package bqfake is a recording BigQuery REST server for tests (net/http/httptest).
// It answers the calls the official Go client makes — datasets.get/insert,
// tables.get/insert, jobs.insert, jobs.get, jobs.getQueryResults, jobs.query — as
// BigQuery documents them, records every request for exact assertions, and
// emulates the effect of jobs on a shadow DuckDB, so a conformance suite can read
// back what a load or a query job wrote:
//
//   - a load or query job into table$YYYYMMDD with WRITE_TRUNCATE replaces that
//     partition, and fails ("Some rows belong to different partitions rather than
//     destination partition YYYYMMDD") when a row falls outside it;
//   - CREATE_NEVER fails on a missing table; jobs.insert answers 409 for a job id
//     that exists;
//   - SQL runs on DuckDB with `project.dataset.table` names mapped to
//     "dataset"."table", so only SQL both engines understand can run.
//
// Tests script the rest: SeedJob puts an existing job (running, succeeded or
// failed) under an id, as a crashed earlier attempt would have left it.
package bqfake

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	bq "google.golang.org/api/bigquery/v2"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/warehouse"
)

// Request is one recorded call.
type Request struct {
	Method string
	// Path is the REST path without the /bigquery/v2 prefix: /projects/p/jobs.
	Path  string
	Query url.Values
	Body  []byte
}

// Job decodes the body of a jobs.insert.
func (r Request) Job() *bq.Job {
	var j bq.Job
	_ = json.Unmarshal(r.Body, &j)
	return &j
}

// Server is the fake.
type Server struct {
	*httptest.Server
	// Resolve maps a gs:// URI of a load job to a local file.
	Resolve func(uri string) (string, error)

	mu       sync.Mutex
	reqs     []Request
	db       *sql.DB
	conn     *sql.Conn
	datasets map[string]*bq.Dataset
	tables   map[string]*bq.Table
	jobs     map[string]*job
	executed []string
}

type job struct {
	j            *bq.Job
	runningPolls int
	applyOnDone  bool
	totalRows    uint64
	// rows and schema of a jobs.query, for the getQueryResults that page through them.
	rows   []*bq.TableRow
	schema *bq.TableSchema
}

// New starts a fake. Point the client at Endpoint().
func New(resolve func(uri string) (string, error)) (*Server, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(context.Background(), "SET TimeZone = 'UTC'"); err != nil {
		return nil, err
	}
	s := &Server{Resolve: resolve, db: db, conn: conn, datasets: map[string]*bq.Dataset{},
		tables: map[string]*bq.Table{}, jobs: map[string]*job{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s, nil
}

// Endpoint is the API root to give option.WithEndpoint.
func (s *Server) Endpoint() string { return s.URL + "/bigquery/v2/" }

// Close stops the server and the shadow database.
func (s *Server) Close() {
	s.Server.Close()
	s.conn.Close()
	s.db.Close()
}

// Requests returns the recorded calls, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Reset forgets the recorded calls (the state stays).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

// Executed lists the ids of the jobs whose effect was applied, in order: a job
// that loaded data twice would appear twice.
func (s *Server) Executed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.executed...)
}

// Inserts returns the recorded jobs.insert calls that were not dry runs.
func (s *Server) Inserts() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/jobs") {
			if j := r.Job(); j.Configuration != nil && !j.Configuration.DryRun {
				out = append(out, r)
			}
		}
	}
	return out
}

// SeedJob stores a job as an earlier attempt left it. With runningPolls > 0 it is
// RUNNING for that many jobs.get calls and then applies its effect and succeeds;
// otherwise it is DONE with the given status (errorResult set: failed) and has no
// further effect.
func (s *Server) SeedJob(j *bq.Job, runningPolls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fj := &job{j: j, runningPolls: runningPolls}
	if runningPolls > 0 {
		j.Status = &bq.JobStatus{State: "RUNNING"}
		fj.applyOnDone = true
	} else if j.Status == nil {
		j.Status = &bq.JobStatus{State: "DONE"}
	}
	if j.Statistics == nil {
		j.Statistics = &bq.JobStatistics{}
	}
	s.jobs[j.JobReference.JobId] = fj
}

// Exec runs a statement on the shadow database (tests set up state with it).
func (s *Server) Exec(q string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.conn.ExecContext(context.Background(), q)
	return err
}

type apiError struct {
	code   int
	reason string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func writeErr(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": e.code, "message": e.msg,
		"errors": []map[string]string{{"reason": e.reason, "message": e.msg, "domain": "global"}},
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

var (
	reDatasets = regexp.MustCompile(`^/projects/([^/]+)/datasets$`)
	reDataset  = regexp.MustCompile(`^/projects/([^/]+)/datasets/([^/]+)$`)
	reTables   = regexp.MustCompile(`^/projects/([^/]+)/datasets/([^/]+)/tables$`)
	reTable    = regexp.MustCompile(`^/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)$`)
	reJobs     = regexp.MustCompile(`^/projects/([^/]+)/jobs$`)
	reJob      = regexp.MustCompile(`^/projects/([^/]+)/jobs/([^/]+)$`)
	reResults  = regexp.MustCompile(`^/projects/([^/]+)/queries/([^/]+)$`)
	reQuery    = regexp.MustCompile(`^/projects/([^/]+)/queries$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p := strings.TrimPrefix(r.URL.Path, "/bigquery/v2")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: p, Query: r.URL.Query(), Body: body})
	var m []string
	match := func(re *regexp.Regexp) bool { m = re.FindStringSubmatch(p); return m != nil }
	var v any
	var err error
	switch {
	case r.Method == http.MethodGet && match(reDataset):
		v, err = s.getDataset(m[2])
	case r.Method == http.MethodPost && match(reDatasets):
		v, err = s.insertDataset(m[1], body)
	case r.Method == http.MethodGet && match(reTable):
		v, err = s.getTable(m[2], m[3])
	case r.Method == http.MethodPost && match(reTables):
		v, err = s.insertTable(m[1], m[2], body)
	case r.Method == http.MethodPost && match(reJobs):
		v, err = s.insertJob(m[1], body)
	case r.Method == http.MethodGet && match(reJob):
		v, err = s.getJob(m[2])
	case r.Method == http.MethodGet && match(reResults):
		v, err = s.getQueryResults(m[2], r.URL.Query().Get("maxResults") != "0")
	case r.Method == http.MethodPost && match(reQuery):
		v, err = s.query(m[1], body)
	default:
		err = &apiError{http.StatusNotFound, "notFound", "bqfake: no such call " + r.Method + " " + p}
	}
	if err != nil {
		if ae, ok := err.(*apiError); ok {
			writeErr(w, ae)
			return
		}
		writeErr(w, &apiError{http.StatusInternalServerError, "internalError", err.Error()})
		return
	}
	writeJSON(w, v)
}

func notFound(what string) error {
	return &apiError{http.StatusNotFound, "notFound", "Not found: " + what}
}

func (s *Server) getDataset(id string) (any, error) {
	d, ok := s.datasets[id]
	if !ok {
		return nil, notFound("Dataset " + id)
	}
	return d, nil
}

func (s *Server) insertDataset(project string, body []byte) (any, error) {
	var d bq.Dataset
	if err := json.Unmarshal(body, &d); err != nil || d.DatasetReference == nil {
		return nil, &apiError{http.StatusBadRequest, "invalid", "bad dataset"}
	}
	id := d.DatasetReference.DatasetId
	if _, ok := s.datasets[id]; ok {
		return nil, &apiError{http.StatusConflict, "duplicate", "Already Exists: Dataset " + project + ":" + id}
	}
	d.DatasetReference.ProjectId = project
	d.Id = project + ":" + id
	s.datasets[id] = &d
	if _, err := s.conn.ExecContext(context.Background(), "CREATE SCHEMA IF NOT EXISTS "+duck.Ident(id)); err != nil {
		return nil, err
	}
	return &d, nil
}

func (s *Server) getTable(ds, id string) (any, error) {
	t, ok := s.tables[ds+"."+id]
	if !ok {
		return nil, notFound("Table " + ds + "." + id)
	}
	return t, nil
}

func (s *Server) insertTable(project, ds string, body []byte) (any, error) {
	var t bq.Table
	if err := json.Unmarshal(body, &t); err != nil || t.TableReference == nil {
		return nil, &apiError{http.StatusBadRequest, "invalid", "bad table"}
	}
	if _, ok := s.datasets[ds]; !ok {
		return nil, notFound("Dataset " + ds)
	}
	key := ds + "." + t.TableReference.TableId
	if _, ok := s.tables[key]; ok {
		return nil, &apiError{http.StatusConflict, "duplicate", "Already Exists: Table " + key}
	}
	if t.Schema == nil || len(t.Schema.Fields) == 0 {
		return nil, &apiError{http.StatusBadRequest, "invalid", "table " + key + " has no schema"}
	}
	cols := make([]string, len(t.Schema.Fields))
	for i, f := range t.Schema.Fields {
		cols[i] = duck.Ident(f.Name) + " " + duckType(f.Type)
	}
	q := fmt.Sprintf("CREATE TABLE %s.%s (%s)", duck.Ident(ds), duck.Ident(t.TableReference.TableId), strings.Join(cols, ", "))
	if _, err := s.conn.ExecContext(context.Background(), q); err != nil {
		return nil, err
	}
	t.TableReference.ProjectId = project
	t.Id = project + ":" + key
	s.tables[key] = &t
	return &t, nil
}

func (s *Server) insertJob(project string, body []byte) (any, error) {
	var j bq.Job
	if err := json.Unmarshal(body, &j); err != nil || j.Configuration == nil {
		return nil, &apiError{http.StatusBadRequest, "invalid", "bad job"}
	}
	if j.JobReference == nil {
		j.JobReference = &bq.JobReference{JobId: fmt.Sprintf("job_%d", len(s.jobs)+1)}
	}
	j.JobReference.ProjectId = project
	if j.Configuration.DryRun {
		schema, err := s.dryRun(j.Configuration.Query)
		if err != nil {
			return nil, &apiError{http.StatusBadRequest, "invalidQuery", err.Error()}
		}
		j.Status = &bq.JobStatus{State: "DONE"}
		j.Statistics = &bq.JobStatistics{Query: &bq.JobStatistics2{Schema: schema}}
		return &j, nil
	}
	id := j.JobReference.JobId
	if _, ok := s.jobs[id]; ok {
		return nil, &apiError{http.StatusConflict, "duplicate", fmt.Sprintf("Already Exists: Job %s:%s.%s", project, j.JobReference.Location, id)}
	}
	fj := &job{j: &j}
	s.jobs[id] = fj
	s.apply(fj)
	return &j, nil
}

func (s *Server) getJob(id string) (any, error) {
	fj, ok := s.jobs[id]
	if !ok {
		return nil, notFound("Job " + id)
	}
	if fj.j.Status.State == "RUNNING" {
		if fj.runningPolls > 0 {
			fj.runningPolls--
			return fj.j, nil
		}
		s.apply(fj)
	}
	return fj.j, nil
}

func (s *Server) getQueryResults(id string, withRows bool) (any, error) {
	fj, ok := s.jobs[id]
	if !ok {
		return nil, notFound("Job " + id)
	}
	if fj.j.Status.State == "RUNNING" {
		if fj.runningPolls > 0 {
			fj.runningPolls--
			return &bq.GetQueryResultsResponse{JobReference: fj.j.JobReference, JobComplete: false}, nil
		}
		s.apply(fj)
	}
	if e := fj.j.Status.ErrorResult; e != nil {
		return nil, &apiError{http.StatusBadRequest, e.Reason, e.Message}
	}
	res := &bq.GetQueryResultsResponse{JobReference: fj.j.JobReference, JobComplete: true, TotalRows: fj.totalRows, Schema: fj.schema}
	if withRows {
		res.Rows = fj.rows
	}
	return res, nil
}

// apply runs a job's effect and marks it DONE (with an error result if it failed).
func (s *Server) apply(fj *job) {
	j := fj.j
	j.Status = &bq.JobStatus{State: "DONE"}
	if j.Statistics == nil {
		j.Statistics = &bq.JobStatistics{}
	}
	now := time.Now().UnixMilli()
	j.Statistics.CreationTime, j.Statistics.StartTime, j.Statistics.EndTime = now, now, now
	var n int64
	var err error
	switch c := j.Configuration; {
	case c.Load != nil:
		n, err = s.load(c.Load)
		j.Statistics.Load = &bq.JobStatistics3{OutputRows: n}
	case c.Query != nil:
		n, err = s.runQueryJob(c.Query)
		j.Statistics.Query = &bq.JobStatistics2{}
	default:
		err = &apiError{http.StatusBadRequest, "invalid", "bqfake: only load and query jobs"}
	}
	s.executed = append(s.executed, j.JobReference.JobId)
	if err != nil {
		reason := "invalid"
		if ae, ok := err.(*apiError); ok {
			reason = ae.reason
		}
		j.Status.ErrorResult = &bq.ErrorProto{Reason: reason, Message: err.Error()}
		j.Status.Errors = []*bq.ErrorProto{j.Status.ErrorResult}
		return
	}
	fj.totalRows = uint64(n)
}

// dest resolves a destination with an optional $YYYYMMDD decorator.
func (s *Server) dest(r *bq.TableReference, create string) (key, ds, table, day string, err error) {
	if r == nil {
		return "", "", "", "", &apiError{http.StatusBadRequest, "invalid", "no destination table"}
	}
	table, dec, _ := strings.Cut(r.TableId, "$")
	key = r.DatasetId + "." + table
	t, ok := s.tables[key]
	if !ok {
		if create == "CREATE_NEVER" {
			return "", "", "", "", notFound("Table " + r.ProjectId + ":" + key)
		}
		return "", "", "", "", &apiError{http.StatusBadRequest, "invalid", "bqfake: create the table before the job"}
	}
	if dec != "" {
		if t.TimePartitioning == nil || t.TimePartitioning.Type != "DAY" || len(dec) != 8 {
			return "", "", "", "", &apiError{http.StatusBadRequest, "invalid", "Invalid partition decorator " + r.TableId}
		}
		day = dec[:4] + "-" + dec[4:6] + "-" + dec[6:]
	}
	return key, r.DatasetId, table, day, nil
}

func (s *Server) load(c *bq.JobConfigurationLoad) (int64, error) {
	if c.SourceFormat != "PARQUET" {
		return 0, &apiError{http.StatusBadRequest, "invalid", "bqfake: only PARQUET loads, got " + c.SourceFormat}
	}
	key, ds, table, day, err := s.dest(c.DestinationTable, c.CreateDisposition)
	if err != nil {
		return 0, err
	}
	locals := make([]string, len(c.SourceUris))
	for i, u := range c.SourceUris {
		if locals[i], err = s.Resolve(u); err != nil {
			return 0, &apiError{http.StatusNotFound, "notFound", "Not found: URI " + u}
		}
	}
	src := fmt.Sprintf("SELECT * FROM read_parquet(%s, hive_partitioning = false, union_by_name = true)", duck.StrList(locals))
	return s.write(key, ds, table, day, src, c.WriteDisposition, c.SchemaUpdateOptions)
}

var reBackticked = regexp.MustCompile("`([A-Za-z0-9_-]+)\\.([A-Za-z0-9_]+)\\.([A-Za-z0-9_]+)`")

// translate maps BigQuery's `project.dataset.table` names onto the shadow's schemas.
func translate(q string) string { return reBackticked.ReplaceAllString(q, `"$2"."$3"`) }

func (s *Server) runQueryJob(c *bq.JobConfigurationQuery) (int64, error) {
	if c.UseLegacySql != nil && *c.UseLegacySql {
		return 0, &apiError{http.StatusBadRequest, "invalid", "bqfake: legacy SQL"}
	}
	key, ds, table, day, err := s.dest(c.DestinationTable, c.CreateDisposition)
	if err != nil {
		return 0, err
	}
	if tp := c.TimePartitioning; tp != nil {
		if t := s.tables[key].TimePartitioning; t == nil || t.Field != tp.Field || t.Type != tp.Type {
			return 0, &apiError{http.StatusBadRequest, "invalid", "Incompatible table partitioning specification for " + key}
		}
	}
	return s.write(key, ds, table, day, "SELECT * FROM ("+translate(c.Query)+"\n) AS q", c.WriteDisposition, c.SchemaUpdateOptions)
}

// write stages src, checks the decorator's partition, then replaces it.
func (s *Server) write(key, ds, table, day, src, disposition string, updates []string) (int64, error) {
	ctx := context.Background()
	t := s.tables[key]
	if _, err := s.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE bqfake_stage AS "+src); err != nil {
		return 0, &apiError{http.StatusBadRequest, "invalid", err.Error()}
	}
	cols, err := s.describe("SELECT * FROM bqfake_stage")
	if err != nil {
		return 0, err
	}
	for _, c := range cols {
		if hasField(t.Schema.Fields, c.Name) {
			continue
		}
		if !contains(updates, "ALLOW_FIELD_ADDITION") {
			return 0, &apiError{http.StatusBadRequest, "invalid", "Provided Schema does not match Table " + key + ". Cannot add fields (field: " + c.Name + ")"}
		}
		if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN %s %s", duck.Ident(ds), duck.Ident(table), duck.Ident(c.Name), duckType(c.Type))); err != nil {
			return 0, err
		}
		t.Schema.Fields = append(t.Schema.Fields, &bq.TableFieldSchema{Name: c.Name, Type: c.Type, Mode: "NULLABLE"})
	}
	name := duck.Ident(ds) + "." + duck.Ident(table)
	if day != "" {
		part := duck.Ident(t.TimePartitioning.Field)
		var outside int64
		q := fmt.Sprintf("SELECT count(*) FROM bqfake_stage WHERE %s IS DISTINCT FROM DATE %s", part, duck.Str(day))
		if err := s.conn.QueryRowContext(ctx, q).Scan(&outside); err != nil {
			return 0, err
		}
		if outside > 0 {
			return 0, &apiError{http.StatusBadRequest, "invalid", "Some rows belong to different partitions rather than destination partition " + strings.ReplaceAll(day, "-", "")}
		}
	}
	stmts := []string{}
	switch disposition {
	case "WRITE_TRUNCATE":
		if day != "" {
			stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE %s = DATE %s", name, duck.Ident(t.TimePartitioning.Field), duck.Str(day)))
		} else {
			stmts = append(stmts, "DELETE FROM "+name)
		}
	case "WRITE_APPEND", "":
	default:
		return 0, &apiError{http.StatusBadRequest, "invalid", "bqfake: write disposition " + disposition}
	}
	stmts = append(stmts, fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM bqfake_stage", name))
	for _, q := range stmts {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return 0, &apiError{http.StatusBadRequest, "invalid", err.Error()}
		}
	}
	var n int64
	err = s.conn.QueryRowContext(ctx, "SELECT count(*) FROM bqfake_stage").Scan(&n)
	return n, err
}

// describe returns a query's columns with BigQuery types.
func (s *Server) describe(q string) ([]*bq.TableFieldSchema, error) {
	rows, err := s.conn.QueryContext(context.Background(), "DESCRIBE "+q)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "invalidQuery", err.Error()}
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []*bq.TableFieldSchema
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		ty, err := warehouse.BigQueryType(fmt.Sprint(vals[1]))
		if err != nil {
			ty = "STRING"
		}
		out = append(out, &bq.TableFieldSchema{Name: fmt.Sprint(vals[0]), Type: string(ty), Mode: "NULLABLE"})
	}
	return out, rows.Err()
}

func (s *Server) dryRun(c *bq.JobConfigurationQuery) (*bq.TableSchema, error) {
	if c == nil {
		return nil, fmt.Errorf("dry run of a non-query job")
	}
	fs, err := s.describe(translate(c.Query))
	if err != nil {
		return nil, err
	}
	return &bq.TableSchema{Fields: fs}, nil
}

// query answers jobs.query (the client's fast path for reads) with every row.
func (s *Server) query(project string, body []byte) (any, error) {
	var qr bq.QueryRequest
	if err := json.Unmarshal(body, &qr); err != nil {
		return nil, &apiError{http.StatusBadRequest, "invalid", "bad query request"}
	}
	q := translate(qr.Query)
	fs, err := s.describe(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.QueryContext(context.Background(), q)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "invalidQuery", err.Error()}
	}
	defer rows.Close()
	types, _ := rows.ColumnTypes()
	var out []*bq.TableRow
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		cells := make([]*bq.TableCell, len(vals))
		for i, v := range vals {
			cells[i] = &bq.TableCell{V: cell(types[i].DatabaseTypeName(), v)}
		}
		out = append(out, &bq.TableRow{F: cells})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	id := fmt.Sprintf("query_%d", len(s.reqs))
	ref := &bq.JobReference{ProjectId: project, JobId: id, Location: qr.Location}
	schema := &bq.TableSchema{Fields: fs}
	s.jobs[id] = &job{j: &bq.Job{JobReference: ref, Status: &bq.JobStatus{State: "DONE"}, Statistics: &bq.JobStatistics{},
		Configuration: &bq.JobConfiguration{Query: &bq.JobConfigurationQuery{Query: qr.Query}}},
		totalRows: uint64(len(out)), rows: out, schema: schema}
	return &bq.QueryResponse{JobComplete: true, Rows: out, TotalRows: uint64(len(out)), Schema: schema, JobReference: ref}, nil
}

// cell encodes a value as BigQuery's JSON rows do: strings, timestamps as
// microseconds since the epoch.
func cell(typ string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if typ == "DATE" {
			return x.Format(time.DateOnly)
		}
		return strconv.FormatInt(x.UnixMicro(), 10)
	case duckdb.Decimal:
		r := new(big.Rat).SetFrac(x.Value, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil))
		return r.FloatString(int(x.Scale))
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return fmt.Sprint(v)
}

func duckType(bqType string) string {
	switch strings.ToUpper(bqType) {
	case "STRING":
		return "VARCHAR"
	case "INTEGER", "INT64":
		return "BIGINT"
	case "FLOAT", "FLOAT64":
		return "DOUBLE"
	case "NUMERIC":
		return "DECIMAL(38,9)"
	case "BIGNUMERIC":
		return "VARCHAR"
	case "BOOLEAN", "BOOL":
		return "BOOLEAN"
	case "BYTES":
		return "BLOB"
	}
	return strings.ToUpper(bqType)
}

func hasField(fs []*bq.TableFieldSchema, name string) bool {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
