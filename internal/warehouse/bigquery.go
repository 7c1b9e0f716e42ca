package warehouse

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/sqltext"
)

// BigQuery is the production warehouse: one dataset per layer in one project.
//
// Every write is a job with a deterministic id (see JobID), so a retried task
// never writes twice: when jobs.insert answers 409 (the id exists), the existing
// job is fetched — still running: awaited; succeeded with the same configuration:
// done; failed, or written from other sources: resubmitted under the next attempt
// suffix (-a2, -a3, ...).
//
// Rows outside partition D: loads and builds write to the partition decorator
// table$YYYYMMDD with WRITE_TRUNCATE, and BigQuery fails such a job when a row
// belongs to another partition ("Some rows belong to different partitions rather
// than destination partition"), writing nothing. The backend relies on that
// documented behaviour (no extra query) and reports the error as ErrOutsidePartition.
type BigQuery struct {
	client   *bigquery.Client
	project  string
	location string

	retry      lake.Retry
	jobTimeout time.Duration

	mu       sync.Mutex
	datasets map[string]bool // ensured in this session
	// MaxAttempts bounds resubmissions of a deterministic job id (default 10).
	MaxAttempts int
}

var _ Warehouse = (*BigQuery)(nil)

// OpenBigQuery connects with Application Default Credentials (or, with
// c.Endpoint, to an emulator or test server without authentication).
func OpenBigQuery(ctx context.Context, c Config, extra ...option.ClientOption) (*BigQuery, error) {
	if c.Project == "" {
		return nil, errors.New("bigquery warehouse: no project: give --bq-project (or WORKER_BQ_PROJECT)")
	}
	opts := append([]option.ClientOption(nil), extra...)
	if c.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(c.Endpoint), option.WithoutAuthentication(), option.WithHTTPClient(http.DefaultClient))
	}
	client, err := bigquery.NewClient(ctx, c.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("bigquery warehouse: %w", err)
	}
	client.Location = c.Location
	jt := c.JobTimeout
	if jt <= 0 {
		jt = DefaultJobTimeout
	}
	return &BigQuery{client: client, project: c.Project, location: c.Location, retry: c.Retry, jobTimeout: jt,
		datasets: map[string]bool{}, MaxAttempts: 10}, nil
}

// DefaultJobTimeout bounds the wait for one load or query job: far above a
// daily partition's, so only a job that never finishes (or a status that never
// comes) meets it.
const DefaultJobTimeout = time.Hour

// call is one API call within the budget (lake.Retry): each attempt gets the
// budget's timeout, inside which the client library retries 5xx and rate limits
// itself (without a bound but the context's), and attempts are counted. Every
// call retried here is safe to send twice: reads, dry runs, creates (a second
// one answers 409, which callers take as done) and job inserts (deterministic
// ids: a second one answers 409, which run takes over).
func (b *BigQuery) call(ctx context.Context, f func(ctx context.Context) error) error {
	return b.retry.Call(ctx, true, func(ctx context.Context, _ func()) error { return f(ctx) })
}

// wait awaits a job for at most the job timeout; the client library polls and
// retries the polls.
func (b *BigQuery) wait(ctx context.Context, job *bigquery.Job) (*bigquery.JobStatus, error) {
	wctx, cancel := context.WithTimeout(ctx, b.jobTimeout)
	defer cancel()
	st, err := job.Wait(wctx)
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return nil, fmt.Errorf("not done after %s: %w", b.jobTimeout, err)
	}
	return st, err
}

// bigQueryBackend loads gs:// files itself, as jobs, in one project.
func bigQueryBackend() Backend {
	return Backend{
		Kind:     KindBigQuery,
		Features: Features{NeedsProject: true, Jobs: true},
		Open: func(ctx context.Context, c Config) (Warehouse, error) {
			w, err := OpenBigQuery(ctx, c)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return w, nil
		},
		QueryHint: func(project string) string {
			if project == "" {
				project = "PROJECT"
			}
			return fmt.Sprintf("query BigQuery itself, e.g. bq query --use_legacy_sql=false 'SELECT * FROM `%s.gold.<mart>` LIMIT 10'", project)
		},
	}
}

// Kind is KindBigQuery.
func (b *BigQuery) Kind() string { return KindBigQuery }

// Features are bigQueryBackend's.
func (b *BigQuery) Features() Features { return bigQueryBackend().Features }

// Dialect renders BigQuery SQL with project-qualified names.
func (b *BigQuery) Dialect() sqltext.Dialect { return sqltext.BigQuery{Project: b.project} }

// URI is bigquery://project/dataset.table$YYYYMMDD.
func (b *BigQuery) URI(t Table, partition string) string {
	u := "bigquery://" + b.project + "/" + t.String()
	if partition != "" {
		u += Decorator(partition)
	}
	return u
}

// Close closes the client.
func (b *BigQuery) Close() error { return b.client.Close() }

func httpCode(err error) int {
	var e *googleapi.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func (b *BigQuery) ensureDataset(ctx context.Context, name string) error {
	b.mu.Lock()
	done := b.datasets[name]
	b.mu.Unlock()
	if done {
		return nil
	}
	ds := b.client.Dataset(name)
	err := b.call(ctx, func(ctx context.Context) error { _, err := ds.Metadata(ctx); return err })
	if httpCode(err) == http.StatusNotFound {
		err = b.call(ctx, func(ctx context.Context) error {
			return ds.Create(ctx, &bigquery.DatasetMetadata{Location: b.location})
		})
		if httpCode(err) == http.StatusConflict {
			err = nil // created concurrently
		}
	}
	if err != nil {
		return fmt.Errorf("ensure dataset %s: %w", name, err)
	}
	b.mu.Lock()
	b.datasets[name] = true
	b.mu.Unlock()
	return nil
}

// Ensure creates the dataset and the day-partitioned, clustered table if missing.
// Columns a table lacks are added by the jobs themselves (ALLOW_FIELD_ADDITION).
func (b *BigQuery) Ensure(ctx context.Context, t Table) error {
	if err := checkTable(t); err != nil {
		return err
	}
	schema, err := bigQuerySchema(t.Schema)
	if err != nil {
		return fmt.Errorf("table %s: %w", t, err)
	}
	return b.ensure(ctx, t, schema)
}

func (b *BigQuery) ensure(ctx context.Context, t Table, schema bigquery.Schema) error {
	if err := b.ensureDataset(ctx, t.Dataset); err != nil {
		return err
	}
	tbl := b.client.Dataset(t.Dataset).Table(t.Name)
	var md *bigquery.TableMetadata
	err := b.call(ctx, func(ctx context.Context) (err error) { md, err = tbl.Metadata(ctx); return err })
	if httpCode(err) == http.StatusNotFound {
		part := false
		for _, f := range schema {
			if strings.EqualFold(f.Name, t.PartitionBy) {
				part = f.Type == bigquery.DateFieldType
			}
		}
		if !part {
			return fmt.Errorf("table %s: partition column %s is missing from the schema or is not a DATE", t, t.PartitionBy)
		}
		meta := &bigquery.TableMetadata{
			Schema:           schema,
			TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: t.PartitionBy},
		}
		if len(t.ClusterBy) > 0 {
			meta.Clustering = &bigquery.Clustering{Fields: t.ClusterBy}
		}
		err = b.call(ctx, func(ctx context.Context) error { return tbl.Create(ctx, meta) })
		if httpCode(err) == http.StatusConflict {
			return nil // created concurrently
		}
		if err != nil {
			return fmt.Errorf("create table %s: %w", t, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("ensure table %s: %w", t, err)
	}
	if md.TimePartitioning == nil || !strings.EqualFold(md.TimePartitioning.Field, t.PartitionBy) ||
		(md.TimePartitioning.Type != "" && md.TimePartitioning.Type != bigquery.DayPartitioningType) {
		return fmt.Errorf("table %s exists but is not partitioned by day on %s", t, t.PartitionBy)
	}
	return nil
}

// fieldAddition lets a load or query add the columns a spec gained; BigQuery
// allows it for WRITE_TRUNCATE to a partition decorator.
var fieldAddition = []string{"ALLOW_FIELD_ADDITION"}

// Load runs a load job of the manifest's gs:// files into table$YYYYMMDD:
// Parquet, WRITE_TRUNCATE, CREATE_NEVER (the table is ensured first).
func (b *BigQuery) Load(ctx context.Context, r LoadRequest) (Result, error) {
	t := r.Table
	if _, err := checkPartition(r.Partition); err != nil {
		return Result{}, err
	}
	if len(r.Sources) == 0 {
		return Result{}, fmt.Errorf("load %s partition %s: no files", t, r.Partition)
	}
	uris := make([]string, len(r.Sources))
	var want int64
	for i, s := range r.Sources {
		if !strings.HasPrefix(s.URI, "gs://") {
			return Result{}, fmt.Errorf("load %s partition %s: %s is not in GCS: a BigQuery warehouse needs a gs:// lake", t, r.Partition, s.URI)
		}
		uris[i] = s.URI
		want += s.Rows
	}
	if len(t.Schema) == 0 {
		return Result{}, fmt.Errorf("load %s partition %s: the manifest has no schema; BigQuery needs one to create the table", t, r.Partition)
	}
	if !hasField(t.Schema, t.PartitionBy) {
		return Result{}, fmt.Errorf("load %s partition %s: the files have no %s column; BigQuery loads need the partition column in the files", t, r.Partition, t.PartitionBy)
	}
	if err := b.Ensure(ctx, t); err != nil {
		return Result{}, err
	}
	dst := t.Name + Decorator(r.Partition)
	ref := bigquery.NewGCSReference(uris...)
	ref.SourceFormat = bigquery.Parquet
	loader := b.client.Dataset(t.Dataset).Table(dst).LoaderFrom(ref)
	loader.WriteDisposition = bigquery.WriteTruncate
	loader.CreateDisposition = bigquery.CreateNever
	loader.SchemaUpdateOptions = fieldAddition
	loader.Location = b.location
	same := func(j *bigquery.Job) bool {
		cfg, err := j.Config()
		if err != nil {
			return false
		}
		lc, ok := cfg.(*bigquery.LoadConfig)
		if !ok || lc.Dst == nil || lc.Dst.TableID != dst || lc.Dst.DatasetID != t.Dataset {
			return false
		}
		g, ok := lc.Src.(*bigquery.GCSReference)
		return ok && slices.Equal(g.URIs, uris)
	}
	job, id, reused, err := b.run(ctx, JobID("gold_load", t, r.Partition, r.RunID), func(id string) (job *bigquery.Job, err error) {
		loader.JobID = id
		err = b.call(ctx, func(ctx context.Context) error { job, err = loader.Run(ctx); return err })
		return job, err
	}, same)
	if err != nil {
		return Result{JobID: id}, fmt.Errorf("load %s partition %s: %w", t, r.Partition, err)
	}
	var n int64
	if st := job.LastStatus(); st != nil && st.Statistics != nil {
		if ls, ok := st.Statistics.Details.(*bigquery.LoadStatistics); ok {
			n = ls.OutputRows
		}
	}
	if n != want {
		return Result{JobID: id, Reused: reused}, fmt.Errorf("load %s partition %s: job %s loaded %d rows, the manifest lists %d", t, r.Partition, id, n, want)
	}
	return Result{Rows: n, URI: b.URI(t, r.Partition), JobID: id, Reused: reused}, nil
}

// Build runs the mart query as a query job with destination gold.mart$YYYYMMDD,
// WRITE_TRUNCATE, day partitioning on partition_by and the spec's clustering. A
// dry run first gives the result's schema, so the table is created (CREATE_NEVER
// then) with its partitioning and clustering before any data is written.
func (b *BigQuery) Build(ctx context.Context, r BuildRequest) (Result, error) {
	t := r.Table
	if _, err := checkPartition(r.Partition); err != nil {
		return Result{}, err
	}
	if err := checkTable(t); err != nil {
		return Result{}, err
	}
	dry := b.client.Query(r.SQL)
	dry.DryRun = true
	dry.Location = b.location
	var dj *bigquery.Job
	err := b.call(ctx, func(ctx context.Context) (err error) { dj, err = dry.Run(ctx); return err })
	if err != nil {
		return Result{}, fmt.Errorf("build %s partition %s: dry run: %w", t, r.Partition, err)
	}
	var schema bigquery.Schema
	if st := dj.LastStatus(); st != nil {
		if err := st.Err(); err != nil {
			return Result{}, fmt.Errorf("build %s partition %s: dry run: %w", t, r.Partition, err)
		}
		if st.Statistics != nil {
			if qs, ok := st.Statistics.Details.(*bigquery.QueryStatistics); ok {
				schema = qs.Schema
			}
		}
	}
	fs := make([]Field, len(schema))
	for i, f := range schema {
		fs[i] = Field{Name: f.Name, Type: string(f.Type)}
	}
	if err := checkQuerySchema(t, fs); err != nil {
		return Result{}, err
	}
	if err := b.ensure(ctx, t, schema); err != nil {
		return Result{}, err
	}
	dst := t.Name + Decorator(r.Partition)
	q := b.client.Query(r.SQL)
	q.Dst = b.client.Dataset(t.Dataset).Table(dst)
	q.WriteDisposition = bigquery.WriteTruncate
	q.CreateDisposition = bigquery.CreateNever
	q.TimePartitioning = &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: t.PartitionBy}
	if len(t.ClusterBy) > 0 {
		q.Clustering = &bigquery.Clustering{Fields: t.ClusterBy}
	}
	q.SchemaUpdateOptions = fieldAddition
	q.Location = b.location
	same := func(j *bigquery.Job) bool {
		cfg, err := j.Config()
		if err != nil {
			return false
		}
		qc, ok := cfg.(*bigquery.QueryConfig)
		return ok && qc.Q == r.SQL && qc.Dst != nil && qc.Dst.TableID == dst && qc.Dst.DatasetID == t.Dataset
	}
	job, id, reused, err := b.run(ctx, JobID("gold_build", t, r.Partition, r.RunID), func(id string) (job *bigquery.Job, err error) {
		q.JobID = id
		err = b.call(ctx, func(ctx context.Context) error { job, err = q.Run(ctx); return err })
		return job, err
	}, same)
	if err != nil {
		return Result{JobID: id}, fmt.Errorf("build %s partition %s: %w", t, r.Partition, err)
	}
	var it *bigquery.RowIterator
	err = b.call(ctx, func(ctx context.Context) (err error) { it, err = job.Read(ctx); return err })
	if err != nil {
		return Result{JobID: id, Reused: reused}, fmt.Errorf("build %s partition %s: job %s: %w", t, r.Partition, id, err)
	}
	return Result{Rows: int64(it.TotalRows), URI: b.URI(t, r.Partition), JobID: id, Reused: reused}, nil
}

// run submits a job under a deterministic id and waits for it; on a 409 it takes
// over the existing job or moves to the next attempt suffix.
func (b *BigQuery) run(ctx context.Context, base string, submit func(id string) (*bigquery.Job, error), same func(*bigquery.Job) bool) (*bigquery.Job, string, bool, error) {
	max := b.MaxAttempts
	if max <= 0 {
		max = 10
	}
	for attempt := 1; attempt <= max; attempt++ {
		id := AttemptID(base, attempt)
		job, err := submit(id)
		if err == nil {
			st, err := b.wait(ctx, job)
			if err != nil {
				return nil, id, false, fmt.Errorf("job %s: %w", id, jobError(err))
			}
			if err := st.Err(); err != nil {
				return nil, id, false, fmt.Errorf("job %s: %w", id, jobError(err))
			}
			return job, id, false, nil
		}
		if httpCode(err) != http.StatusConflict {
			return nil, id, false, fmt.Errorf("submit job %s: %w", id, err)
		}
		// The id exists: a retried task, or an earlier attempt of this one.
		err = b.call(ctx, func(ctx context.Context) (err error) {
			job, err = b.client.JobFromIDLocation(ctx, id, b.location)
			return err
		})
		if err != nil {
			return nil, id, false, fmt.Errorf("get existing job %s: %w", id, err)
		}
		if !same(job) {
			continue // that job wrote other sources (a republished partition): go again
		}
		st := job.LastStatus()
		if st == nil || !st.Done() {
			if st, err = b.wait(ctx, job); err != nil {
				if jobFailed(err) {
					continue
				}
				return nil, id, false, fmt.Errorf("await existing job %s: %w", id, err)
			}
		}
		if st.Err() != nil {
			continue // failed: resubmit under the next suffix
		}
		return job, id, true, nil
	}
	return nil, AttemptID(base, max), false, fmt.Errorf("job %s: gave up after %d attempts", base, max)
}

// jobFailed tells a job's own failure (reported while awaiting it) from a
// transport error.
func jobFailed(err error) bool {
	c := httpCode(err)
	return c == http.StatusBadRequest || c == http.StatusForbidden
}

// jobError marks BigQuery's "rows outside the destination partition" failure.
func jobError(err error) error {
	if strings.Contains(err.Error(), "belong to different partitions") {
		return fmt.Errorf("%w: %v", ErrOutsidePartition, err)
	}
	return err
}

// Query runs a read-only query and returns its rows.
func (b *BigQuery) Query(ctx context.Context, q string) (*Rows, error) {
	query := b.client.Query(q)
	query.Location = b.location
	// A read-only query: bounded like a job.
	ctx, cancel := context.WithTimeout(ctx, b.jobTimeout)
	defer cancel()
	it, err := query.Read(ctx)
	if err != nil {
		return nil, err
	}
	out := &Rows{}
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, err
		}
		if out.Columns == nil {
			for _, f := range it.Schema {
				out.Columns = append(out.Columns, f.Name)
			}
		}
		vals := make([]any, len(row))
		for i, v := range row {
			vals[i] = normalizeBQ(v)
		}
		out.Values = append(out.Values, vals)
	}
	if out.Columns == nil {
		for _, f := range it.Schema {
			out.Columns = append(out.Columns, f.Name)
		}
	}
	return out, nil
}

func normalizeBQ(v bigquery.Value) any {
	switch x := v.(type) {
	case civil.Date:
		return x.String()
	case *big.Rat:
		return decimalString(x)
	case time.Time:
		return x.UTC()
	}
	return v
}

// bigQuerySchema maps manifest (DuckDB) types to BigQuery's.
func bigQuerySchema(fs []Field) (bigquery.Schema, error) {
	out := make(bigquery.Schema, 0, len(fs))
	for _, f := range fs {
		ty, err := BigQueryType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		out = append(out, &bigquery.FieldSchema{Name: f.Name, Type: ty})
	}
	return out, nil
}

// BigQueryType maps a DuckDB type name to the BigQuery column type its Parquet
// encoding loads into.
func BigQueryType(duckType string) (bigquery.FieldType, error) {
	t, err := sqltext.ParseType(duckType)
	if err != nil {
		return "", fmt.Errorf("type %s has no BigQuery column type here", duckType)
	}
	switch t.Family() {
	case sqltext.Decimal:
		if t.Scale <= 9 && t.Precision-t.Scale <= 29 {
			return bigquery.NumericFieldType, nil
		}
		return bigquery.BigNumericFieldType, nil
	case sqltext.Text, sqltext.UUID, sqltext.JSON:
		return bigquery.StringFieldType, nil
	case sqltext.Boolean:
		return bigquery.BooleanFieldType, nil
	case sqltext.Integer:
		if t.Name == "UBIGINT" || t.Name == "HUGEINT" {
			return bigquery.BigNumericFieldType, nil // beyond INT64
		}
		return bigquery.IntegerFieldType, nil
	case sqltext.Float:
		return bigquery.FloatFieldType, nil
	case sqltext.Date:
		return bigquery.DateFieldType, nil
	case sqltext.Timestamp:
		if t.Name == "DATETIME" {
			break // DuckDB's alias of TIMESTAMP, but BigQuery's DATETIME is another type
		}
		return bigquery.TimestampFieldType, nil
	case sqltext.Time:
		return bigquery.TimeFieldType, nil
	case sqltext.Interval:
		return bigquery.IntervalFieldType, nil
	case sqltext.Blob:
		return bigquery.BytesFieldType, nil
	}
	return "", fmt.Errorf("type %s has no BigQuery column type here", duckType)
}
