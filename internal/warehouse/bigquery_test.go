package warehouse_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	bq "google.golang.org/api/bigquery/v2"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/warehouse"
	"github.com/shoplake/lakehouse/internal/warehouse/bqfake"
)

const day = "2026-11-20"

var silverOrders = warehouse.Table{Dataset: "silver", Name: "orders", PartitionBy: "ingestion_dt", ClusterBy: []string{"customer_id"},
	Schema: []warehouse.Field{{Name: "order_id", Type: "VARCHAR"}, {Name: "customer_id", Type: "VARCHAR"},
		{Name: "total_amount", Type: "DECIMAL(12,2)"}, {Name: "order_ts", Type: "TIMESTAMP"}, {Name: "ingestion_dt", Type: "DATE"}}}

// parquet writes a file of n orders of day d and returns it as a gs:// source.
func parquet(t *testing.T, d string, n int) warehouse.Source {
	t.Helper()
	local := filepath.Join(t.TempDir(), "part-00000.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf(`COPY (SELECT 'o' || i AS order_id, 'c' || i AS customer_id, CAST(i AS DECIMAL(12,2)) AS total_amount,
		TIMESTAMP '%s 10:00:00' AS order_ts, DATE '%s' AS ingestion_dt FROM range(%d) t(i)) TO %s (FORMAT parquet)`, d, d, n, duck.Str(local))
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
	return warehouse.Source{URI: gcsOf(local), Local: local, Rows: int64(n)}
}

// call is a recorded request in short form: "GET /projects/proj/datasets/silver".
func calls(f *bqfake.Server) []string {
	var out []string
	for _, r := range f.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func sameCalls(t *testing.T, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestBigQueryLoadRequests(t *testing.T) {
	f := newFake(t)
	w := openBQ(t, f)
	defer w.Close()
	src := parquet(t, day, 3)
	res, err := w.Load(context.Background(), warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{src}, RunID: "manual__2026-11-21T03:00:00+00:00"})
	if err != nil {
		t.Fatal(err)
	}
	const id = "gold_load_silver_orders_20261120_manual__2026-11-21T03_00_00_00_00"
	if res.JobID != id || res.Rows != 3 || res.Reused {
		t.Errorf("result = %+v, want job %s, 3 rows, not reused", res, id)
	}
	if res.URI != "bigquery://proj/silver.orders$20261120" {
		t.Errorf("URI = %s", res.URI)
	}
	sameCalls(t, calls(f), []string{
		"GET /projects/proj/datasets/silver",
		"POST /projects/proj/datasets",
		"GET /projects/proj/datasets/silver/tables/orders",
		"POST /projects/proj/datasets/silver/tables",
		"POST /projects/proj/jobs",
		"GET /projects/proj/jobs/" + id,
	})
	reqs := f.Requests()

	var ds bq.Dataset
	mustJSON(t, reqs[1].Body, &ds)
	if ds.DatasetReference.DatasetId != "silver" || ds.Location != "EU" {
		t.Errorf("dataset insert = %s", reqs[1].Body)
	}

	var tbl bq.Table
	mustJSON(t, reqs[3].Body, &tbl)
	if tp := tbl.TimePartitioning; tp == nil || tp.Type != "DAY" || tp.Field != "ingestion_dt" {
		t.Errorf("table time partitioning = %+v, want DAY on ingestion_dt", tbl.TimePartitioning)
	}
	if c := tbl.Clustering; c == nil || !reflect.DeepEqual(c.Fields, []string{"customer_id"}) {
		t.Errorf("table clustering = %+v, want [customer_id]", tbl.Clustering)
	}
	var types []string
	for _, fs := range tbl.Schema.Fields {
		types = append(types, fs.Name+":"+fs.Type)
	}
	if got, want := strings.Join(types, " "), "order_id:STRING customer_id:STRING total_amount:NUMERIC order_ts:TIMESTAMP ingestion_dt:DATE"; got != want {
		t.Errorf("table schema = %s, want %s", got, want)
	}

	job := reqs[4].Job()
	if job.JobReference.JobId != id || job.JobReference.Location != "EU" {
		t.Errorf("job reference = %+v, want id %s in EU", job.JobReference, id)
	}
	l := job.Configuration.Load
	if l == nil {
		t.Fatalf("not a load job: %s", reqs[4].Body)
	}
	if d := l.DestinationTable; d.ProjectId != "proj" || d.DatasetId != "silver" || d.TableId != "orders$20261120" {
		t.Errorf("destination = %+v, want proj:silver.orders$20261120", d)
	}
	if l.WriteDisposition != "WRITE_TRUNCATE" || l.CreateDisposition != "CREATE_NEVER" {
		t.Errorf("dispositions = %s/%s, want WRITE_TRUNCATE/CREATE_NEVER", l.WriteDisposition, l.CreateDisposition)
	}
	if l.SourceFormat != "PARQUET" || !reflect.DeepEqual(l.SourceUris, []string{src.URI}) {
		t.Errorf("source = %s %v, want PARQUET %v", l.SourceFormat, l.SourceUris, src.URI)
	}
	if !reflect.DeepEqual(l.SchemaUpdateOptions, []string{"ALLOW_FIELD_ADDITION"}) {
		t.Errorf("schema update options = %v", l.SchemaUpdateOptions)
	}
}

func TestBigQueryRetriedLoadReusesSucceededJob(t *testing.T) {
	f := newFake(t)
	w := openBQ(t, f)
	defer w.Close()
	src := parquet(t, day, 4)
	req := warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{src}, RunID: "r1"}
	if _, err := w.Load(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	f.Reset()
	// The task is retried (same run id): the id exists, the job succeeded, done.
	res, err := w.Load(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	const id = "gold_load_silver_orders_20261120_r1"
	if !res.Reused || res.JobID != id || res.Rows != 4 {
		t.Errorf("retry result = %+v, want reused %s with 4 rows", res, id)
	}
	sameCalls(t, calls(f), []string{
		"GET /projects/proj/datasets/silver/tables/orders",
		"POST /projects/proj/jobs", // 409
		"GET /projects/proj/jobs/" + id,
	})
	if got := f.Executed(); !reflect.DeepEqual(got, []string{id}) {
		t.Errorf("jobs executed = %v, want the one load %s", got, id)
	}
}

// seedLoad leaves a load job as a crashed earlier attempt would have.
func seedLoad(f *bqfake.Server, id string, src warehouse.Source, state string, failed bool, runningPolls int) {
	j := &bq.Job{
		JobReference: &bq.JobReference{ProjectId: "proj", JobId: id, Location: "EU"},
		Configuration: &bq.JobConfiguration{Load: &bq.JobConfigurationLoad{
			DestinationTable: &bq.TableReference{ProjectId: "proj", DatasetId: "silver", TableId: "orders$20261120"},
			SourceUris:       []string{src.URI}, SourceFormat: "PARQUET",
			WriteDisposition: "WRITE_TRUNCATE", CreateDisposition: "CREATE_NEVER"}},
		Status: &bq.JobStatus{State: state},
	}
	if failed {
		j.Status.ErrorResult = &bq.ErrorProto{Reason: "backendError", Message: "the earlier attempt failed"}
	}
	f.SeedJob(j, runningPolls)
}

func TestBigQueryRetriedLoadAwaitsRunningJob(t *testing.T) {
	f := newFake(t)
	w := openBQ(t, f)
	defer w.Close()
	if err := w.Ensure(context.Background(), silverOrders); err != nil {
		t.Fatal(err)
	}
	src := parquet(t, day, 5)
	const id = "gold_load_silver_orders_20261120_r1"
	seedLoad(f, id, src, "RUNNING", false, 1)
	f.Reset()
	res, err := w.Load(context.Background(), warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{src}, RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reused || res.Rows != 5 {
		t.Errorf("result = %+v, want the running job's 5 rows, reused", res)
	}
	got := calls(f)
	inserts := 0
	for _, c := range got {
		if c == "POST /projects/proj/jobs" {
			inserts++
		}
	}
	if inserts != 1 || got[len(got)-1] != "GET /projects/proj/jobs/"+id {
		t.Errorf("requests = %v, want one (refused) insert, then polling %s", got, id)
	}
	if ex := f.Executed(); !reflect.DeepEqual(ex, []string{id}) {
		t.Errorf("jobs executed = %v, want only the awaited %s", ex, id)
	}
	rows, err := w.Query(context.Background(), "SELECT COUNT(*) FROM `proj.silver.orders`")
	if err != nil {
		t.Fatal(err)
	}
	if n := rows.Values[0][0]; n != int64(5) {
		t.Errorf("table holds %v rows, want 5 (one copy)", n)
	}
}

func TestBigQueryFailedJobResubmittedWithNextSuffix(t *testing.T) {
	f := newFake(t)
	w := openBQ(t, f)
	defer w.Close()
	if err := w.Ensure(context.Background(), silverOrders); err != nil {
		t.Fatal(err)
	}
	src := parquet(t, day, 2)
	const id = "gold_load_silver_orders_20261120_r1"
	seedLoad(f, id, src, "DONE", true, 0)
	seedLoad(f, id+"-a2", src, "DONE", true, 0)
	f.Reset()
	res, err := w.Load(context.Background(), warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{src}, RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.JobID != id+"-a3" || res.Reused || res.Rows != 2 {
		t.Errorf("result = %+v, want a fresh job %s-a3 with 2 rows", res, id)
	}
	var ids []string
	for _, r := range f.Inserts() {
		ids = append(ids, r.Job().JobReference.JobId)
	}
	if want := []string{id, id + "-a2", id + "-a3"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("job ids submitted = %v, want %v", ids, want)
	}
	if ex := f.Executed(); !reflect.DeepEqual(ex, []string{id + "-a3"}) {
		t.Errorf("jobs executed = %v, want only %s-a3", ex, id)
	}
}

func TestBigQueryRepublishedPartitionIsLoadedAgain(t *testing.T) {
	f := newFake(t)
	w := openBQ(t, f)
	defer w.Close()
	ctx := context.Background()
	first, second := parquet(t, day, 2), parquet(t, day, 3)
	if _, err := w.Load(ctx, warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{first}, RunID: "r1"}); err != nil {
		t.Fatal(err)
	}
	// The same run id, other files (the partition was republished): the existing
	// job loaded other sources, so it is not reused.
	res, err := w.Load(ctx, warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{second}, RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.JobID != "gold_load_silver_orders_20261120_r1-a2" || res.Rows != 3 {
		t.Errorf("result = %+v, want job -a2 with 3 rows", res)
	}
}

func TestBigQueryBuildRequests(t *testing.T) {
	f := newFake(t)
	w := openBQ(t, f)
	defer w.Close()
	ctx := context.Background()
	if _, err := w.Load(ctx, warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{parquet(t, day, 3)}, RunID: "r1"}); err != nil {
		t.Fatal(err)
	}
	src := `SELECT CAST(order_ts AS DATE) AS order_date, customer_id, SUM(total_amount) AS revenue
FROM silver.orders WHERE ingestion_dt = {{ partition }} GROUP BY 1, 2`
	q, err := warehouse.Render(src, warehouse.RenderOptions{Dialect: w.Dialect(), Partition: day, DependsOn: []spec.Ref{{Layer: "silver", Name: "orders"}}})
	if err != nil {
		t.Fatal(err)
	}
	wantSQL := "SELECT CAST(order_ts AS DATE) AS order_date, customer_id, SUM(total_amount) AS revenue\n" +
		"FROM `proj.silver.orders` WHERE ingestion_dt = DATE '2026-11-20' GROUP BY 1, 2"
	if q != wantSQL {
		t.Fatalf("rendered SQL:\n%s\nwant:\n%s", q, wantSQL)
	}
	f.Reset()
	fct := warehouse.Table{Dataset: "gold", Name: "fct_orders", PartitionBy: "order_date", ClusterBy: []string{"customer_id"}}
	res, err := w.Build(ctx, warehouse.BuildRequest{Table: fct, Partition: day, SQL: q, RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	const id = "gold_build_gold_fct_orders_20261120_r1"
	if res.JobID != id || res.Rows != 3 {
		t.Errorf("result = %+v, want job %s with 3 rows", res, id)
	}
	sameCalls(t, calls(f), []string{
		"POST /projects/proj/jobs", // dry run: the result's schema
		"GET /projects/proj/datasets/gold",
		"POST /projects/proj/datasets",
		"GET /projects/proj/datasets/gold/tables/fct_orders",
		"POST /projects/proj/datasets/gold/tables",
		"POST /projects/proj/jobs",
		"GET /projects/proj/queries/" + id, // await
		"GET /projects/proj/jobs/" + id,
		"GET /projects/proj/queries/" + id, // total rows
	})
	reqs := f.Requests()
	dry := reqs[0].Job()
	if !dry.Configuration.DryRun || dry.Configuration.Query.Query != wantSQL {
		t.Errorf("first job is not a dry run of the query: %s", reqs[0].Body)
	}
	var tbl bq.Table
	mustJSON(t, reqs[4].Body, &tbl)
	if tp := tbl.TimePartitioning; tp == nil || tp.Type != "DAY" || tp.Field != "order_date" {
		t.Errorf("mart time partitioning = %+v", tbl.TimePartitioning)
	}
	if c := tbl.Clustering; c == nil || !reflect.DeepEqual(c.Fields, []string{"customer_id"}) {
		t.Errorf("mart clustering = %+v", tbl.Clustering)
	}
	job := reqs[5].Job()
	qc := job.Configuration.Query
	if job.JobReference.JobId != id || qc == nil {
		t.Fatalf("query job = %s", reqs[5].Body)
	}
	if d := qc.DestinationTable; d.ProjectId != "proj" || d.DatasetId != "gold" || d.TableId != "fct_orders$20261120" {
		t.Errorf("destination = %+v, want proj:gold.fct_orders$20261120", d)
	}
	if qc.WriteDisposition != "WRITE_TRUNCATE" || qc.CreateDisposition != "CREATE_NEVER" {
		t.Errorf("dispositions = %s/%s", qc.WriteDisposition, qc.CreateDisposition)
	}
	if tp := qc.TimePartitioning; tp == nil || tp.Type != "DAY" || tp.Field != "order_date" {
		t.Errorf("query time partitioning = %+v", qc.TimePartitioning)
	}
	if c := qc.Clustering; c == nil || !reflect.DeepEqual(c.Fields, []string{"customer_id"}) {
		t.Errorf("query clustering = %+v", qc.Clustering)
	}
	if qc.Query != wantSQL || (qc.UseLegacySql != nil && *qc.UseLegacySql) {
		t.Errorf("query = %q legacy=%v", qc.Query, qc.UseLegacySql)
	}
}

// A row outside D: the job goes to the decorator with WRITE_TRUNCATE, and the
// backend relies on BigQuery failing it; the error is ErrOutsidePartition.
func TestBigQueryBuildOutsidePartitionIsAnError(t *testing.T) {
	f := newFake(t)
	w := openBQ(t, f)
	defer w.Close()
	ctx := context.Background()
	fct := warehouse.Table{Dataset: "gold", Name: "fct_x", PartitionBy: "d"}
	q := "SELECT DATE '2026-11-19' AS d, 1 AS n"
	_, err := w.Build(ctx, warehouse.BuildRequest{Table: fct, Partition: day, SQL: q, RunID: "r1"})
	if !errors.Is(err, warehouse.ErrOutsidePartition) {
		t.Fatalf("err = %v, want ErrOutsidePartition", err)
	}
	ins := f.Inserts()
	if len(ins) != 1 || ins[0].Job().Configuration.Query.DestinationTable.TableId != "fct_x$20261120" ||
		ins[0].Job().Configuration.Query.WriteDisposition != "WRITE_TRUNCATE" {
		t.Errorf("the check relies on WRITE_TRUNCATE to the decorator; got inserts %v", ins)
	}
}

func TestBigQueryLoadNeedsGCS(t *testing.T) {
	f := newFake(t)
	w := openBQ(t, f)
	defer w.Close()
	src := parquet(t, day, 1)
	src.URI = "file://" + src.Local
	_, err := w.Load(context.Background(), warehouse.LoadRequest{Table: silverOrders, Partition: day, Sources: []warehouse.Source{src}, RunID: "r1"})
	if err == nil || !strings.Contains(err.Error(), "gs://") {
		t.Fatalf("err = %v, want a gs:// lake", err)
	}
	if len(f.Requests()) != 0 {
		t.Errorf("a refused load still called BigQuery: %v", calls(f))
	}
}

func TestJobIDs(t *testing.T) {
	tbl := warehouse.Table{Dataset: "enriched", Name: "customer_ltv"}
	for _, tc := range []struct{ run, want string }{
		{"r1", "gold_load_enriched_customer_ltv_20261120_r1"},
		{"scheduled__2026-11-20T03:00:00+00:00", "gold_load_enriched_customer_ltv_20261120_scheduled__2026-11-20T03_00_00_00_00"},
		{"a.b", "gold_load_enriched_customer_ltv_20261120_a_b"},
	} {
		if got := warehouse.JobID("gold_load", tbl, day, tc.run); got != tc.want {
			t.Errorf("JobID(%q) = %s, want %s", tc.run, got, tc.want)
		}
	}
	long := warehouse.JobID("gold_load", tbl, day, strings.Repeat("x", 2000))
	if len(long) > 1024 || long == warehouse.JobID("gold_load", tbl, day, strings.Repeat("x", 1999)) {
		t.Errorf("long run ids: %d characters, or not distinct", len(long))
	}
	if got := warehouse.AttemptID("j", 1) + " " + warehouse.AttemptID("j", 3); got != "j j-a3" {
		t.Errorf("attempt ids = %s", got)
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}
