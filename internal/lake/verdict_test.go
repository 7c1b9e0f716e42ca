package lake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/laketest"
)

// TestReadVerdictPolicy: one reader, one policy. Missing, failed or stale is "not
// passed" with a reason; unreadable is an error; passed holds while what the gate
// judged is unchanged.
func TestReadVerdictPolicy(t *testing.T) {
	const task, run, table, key, day = "silver.validate", "r1", "customers", "ingestion_dt", "2026-11-20"
	layers := []string{lake.Silver, lake.Quarantine}
	judge := func(failed ...string) lake.Judgement {
		return lake.Judgement{Task: task, RunID: run, Table: table, Key: key, Value: day, Layers: layers,
			FailedChecks: failed, Now: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)}
	}
	type want struct {
		passed, missing, err bool
		why                  string
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, l lake.Lake)
		want  want
	}{
		{"missing", func(t *testing.T, l lake.Lake) {}, want{missing: true, why: "no silver.validate verdict for run r1"}},
		{"unreadable", func(t *testing.T, l lake.Lake) {
			write(t, l, lake.VerdictPath(run, lake.Silver, table, key, day), "{not json")
		}, want{err: true}},
		{"unknown status", func(t *testing.T, l lake.Lake) {
			write(t, l, lake.VerdictPath(run, lake.Silver, table, key, day), `{"version": 1, "status": "maybe", "task": "silver.validate", "run_id": "r1"}`)
		}, want{err: true}},
		{"another gate's", func(t *testing.T, l lake.Lake) {
			j := judge()
			j.Task = "dims.snapshot"
			writeVerdict(t, l, j)
		}, want{err: true}},
		{"failed", func(t *testing.T, l lake.Lake) { writeVerdict(t, l, judge("conservation", "pk_unique")) },
			want{why: "the silver.validate gate failed for run r1 (conservation, pk_unique)"}},
		{"passed", func(t *testing.T, l lake.Lake) { writeVerdict(t, l, judge()) }, want{passed: true}},
		{"rebuilt since", func(t *testing.T, l lake.Lake) {
			writeVerdict(t, l, judge())
			laketest.Stage(t, l, lake.Quarantine, table, key, day, run, map[string]string{"part-00000.parquet": "other\n"})
		}, want{why: "changed since the silver.validate gate passed it"}},
		{"judged manifest gone", func(t *testing.T, l lake.Lake) {
			writeVerdict(t, l, judge())
			if err := l.Delete(context.Background(), lake.StagingDir(run, lake.Silver, table, key, day)+"/"+lake.ManifestFile); err != nil {
				t.Fatal(err)
			}
		}, want{why: "changed since the silver.validate gate passed it"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := lake.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			laketest.Stage(t, l, lake.Silver, table, key, day, run, map[string]string{"part-00000.parquet": "a\nb\n"})
			laketest.Stage(t, l, lake.Quarantine, table, key, day, run, map[string]string{"part-00000.parquet": "q\n"})
			c.setup(t, l)
			g, err := lake.ReadVerdict(context.Background(), l, task, run, lake.Silver, table, key, day)
			if (err != nil) != c.want.err {
				t.Fatalf("error = %v, want error %v", err, c.want.err)
			}
			if g.Passed != c.want.passed || g.Missing != c.want.missing || !strings.Contains(g.Why, c.want.why) {
				t.Errorf("ReadVerdict = %+v, want %+v", g, c.want)
			}
			if !g.Passed && !c.want.err && g.Why == "" {
				t.Error("not passed without a reason")
			}
		})
	}
}

func writeVerdict(t *testing.T, l lake.Lake, j lake.Judgement) {
	t.Helper()
	if _, err := lake.WriteVerdict(context.Background(), l, j); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, l lake.Lake, p, s string) {
	t.Helper()
	if _, err := lake.WriteBytes(context.Background(), l, p, []byte(s), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
}
