package enriched_test

import (
	"context"
	"errors"
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks/enriched"
	"github.com/shoplake/lakehouse/tasks/publish"
)

// A crafted input that breaks a business rule: the gate exits 3 naming the
// transform, the partition and the checks, and nothing becomes visible.
func TestBrokenRuleFailsTheGateAndNothingIsPublished(t *testing.T) {
	env := shopEnv(t)
	ctx := context.Background()
	silver(t, env, "orders", day, `
order_id | customer_id | order_ts            | status | total_amount
O1       | C1          | 2026-11-20 09:00:00 | paid   | -5.00
O2       | C2          | 2026-11-20 10:00:00 | paid   | 7.00`)
	o := enriched.Options{Transform: "customer_ltv", Partition: day}
	if _, err := enriched.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	rec, rep, err := enriched.Validate(ctx, env, o)
	if fail.Code(err) != fail.BadData {
		t.Fatalf("validate: err = %v (code %d), want exit 3", err, fail.Code(err))
	}
	msg := err.Error()
	for _, want := range []string{"customer_ltv", day, "rule:lifetime_revenue >= 0: 1 row violates lifetime_revenue >= 0 (false or NULL), e.g. C1",
		"rule:order_count = 0 OR avg_order_value >= 0"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not name %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	if rep.Status != audit.Fail || rec.Status != audit.StatusFailed || rec.ExitCode != fail.BadData {
		t.Errorf("report %s, audit %s exit %d", rep.Status, rec.Status, rec.ExitCode)
	}
	c, _ := check(rep, "rule:lifetime_revenue >= 0")
	if c.Status != audit.Fail || c.Observed != int64(1) || !reflect.DeepEqual(c.SampleKeys, []string{"C1"}) {
		t.Errorf("rule check = %+v, want 1 violating row, sample key C1", c)
	}
	if c, _ := check(rep, "rule:net_revenue = lifetime_revenue - refund_total"); c.Status != audit.Pass {
		t.Errorf("a rule that holds failed: %+v", c)
	}
	// The report is in the lake, where publish looks for it.
	if _, err := lake.ReadAll(ctx, env.Lake, audit.ReportPath(day, env.RunID, spec.TaskEnrichedValidate, "customer_ltv")); err != nil {
		t.Errorf("report not written: %v", err)
	}

	_, perr := publish.Run(ctx, env, publish.Options{Layer: lake.Enriched, Table: "customer_ltv", Partition: day})
	if fail.Code(perr) != fail.BadData {
		t.Errorf("publish after a failed gate: err = %v (code %d), want exit 3", perr, fail.Code(perr))
	}
	commitPoint := path.Join(lake.PartitionDir(lake.Enriched, "customer_ltv", "ingestion_dt", day), lake.ManifestFile)
	if _, err := env.Lake.Stat(ctx, commitPoint); !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("commit point %s exists (err %v): a failed gate published data", commitPoint, err)
	}
}

func TestNotNullAndMinRowsFailTheGate(t *testing.T) {
	env := shopEnv(t)
	ctx := context.Background()
	silver(t, env, "orders", day, `
order_id | customer_id | order_ts            | status | total_amount
O1       | NULL        | 2026-11-20 09:00:00 | paid   | 5.00
O2       | C2          | 2026-11-20 10:00:00 | paid   | 7.00`)
	o := enriched.Options{Transform: "cart_attribution", Partition: day}
	if _, err := enriched.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	_, rep, err := enriched.Validate(ctx, env, o)
	if fail.Code(err) != fail.BadData || !strings.Contains(err.Error(), "not_null:customer_id: 1 row has customer_id NULL, e.g. O1|NULL") {
		t.Fatalf("err = %v, want exit 3 naming not_null:customer_id, its count and a sample key", err)
	}
	c, _ := check(rep, "not_null:customer_id")
	if c.Observed != int64(1) || !reflect.DeepEqual(c.SampleKeys, []string{"O1|NULL"}) {
		t.Errorf("not_null check = %+v", c)
	}
	// The null analysis maps every column to its NULL rate; all-NULL columns warn.
	na, _ := check(rep, "null_analysis")
	rates, ok := na.Observed.(map[string]float64)
	if !ok || rates["customer_id"] != 0.5 || rates["order_id"] != 0 || rates["session_id"] != 1 {
		t.Errorf("null_analysis observed = %#v", na.Observed)
	}
	if na.Status != audit.Warn || !strings.Contains(na.Message, "session_id") {
		t.Errorf("null_analysis = %s %q, want a warning naming session_id", na.Status, na.Message)
	}

	// A day without orders: min_rows 1 fails.
	o.Partition = "2026-11-21"
	if _, err := enriched.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	_, rep, err = enriched.Validate(ctx, env, o)
	if fail.Code(err) != fail.BadData || rep.Failed()[0] != "min_rows" || !strings.Contains(err.Error(), "min_rows: 0 rows, the spec wants at least 1") {
		t.Errorf("err = %v, failed %v; want min_rows", err, rep.Failed())
	}
}

func TestGateNeedsWhatTheRunStaged(t *testing.T) {
	env := shopEnv(t)
	ctx := context.Background()
	o := enriched.Options{Transform: "daily_metrics", Partition: day}
	_, rep, err := enriched.Validate(ctx, env, o)
	if fail.Code(err) != fail.BadData || rep.Failed()[0] != "staged" {
		t.Fatalf("validate without build: err = %v, failed %v", err, rep.Failed())
	}

	if _, err := enriched.Build(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	// Another run's gate sees nothing of this run's staging.
	other := *env
	other.RunID = "run2"
	if _, _, err := enriched.Validate(ctx, &other, o); fail.Code(err) != fail.BadData {
		t.Errorf("another run: err = %v, want exit 3", err)
	}
	// A staged file that changed after the build fails files_intact.
	f := path.Join(lake.StagingDir(env.RunID, lake.Enriched, "daily_metrics", "ingestion_dt", day), "part-00000.parquet")
	if _, err := lake.WriteBytes(ctx, env.Lake, f, []byte("not parquet"), lake.Precondition{}); err != nil {
		t.Fatal(err)
	}
	_, rep, err = enriched.Validate(ctx, env, o)
	if fail.Code(err) != fail.BadData || !reflect.DeepEqual(rep.Failed(), []string{"files_intact"}) {
		t.Errorf("tampered file: err = %v, failed %v", err, rep.Failed())
	}
}
