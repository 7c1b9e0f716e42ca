package silver_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// flightsSpec is a small NYC-flights shape: planes keyed by (carrier, tailnum),
// a composite foreign key from flights (columns in another order than the
// parent's primary key), and a one-column key to airports that only warns.
// ONORPHAN is replaced by the composite key's on_orphan.
const flightsSpec = `pipeline: f
bronze:
  tables:
    - name: planes
      columns:
        - {name: carrier, type: VARCHAR}
        - {name: tailnum, type: VARCHAR}
    - name: airports
      columns:
        - {name: faa, type: VARCHAR}
    - name: flights
      columns:
        - {name: flight_id, type: VARCHAR}
        - {name: carrier, type: VARCHAR}
        - {name: tailnum, type: VARCHAR}
        - {name: dest, type: VARCHAR}
base_silver:
  tables:
    - name: planes
      source: planes
      primary_key: [carrier, tailnum]
      columns:
        - {name: carrier, type: VARCHAR, not_null: true}
        - {name: tailnum, type: VARCHAR, not_null: true}
    - name: airports
      source: airports
      primary_key: [faa]
      columns:
        - {name: faa, type: VARCHAR, not_null: true}
    - name: flights
      source: flights
      primary_key: [flight_id]
      columns:
        - {name: flight_id, type: VARCHAR, not_null: true}
        - {name: carrier, type: VARCHAR}
        - {name: tailnum, type: VARCHAR}
        - {name: dest, type: VARCHAR}
      foreign_keys:
        - {columns: [tailnum, carrier], references: "planes.(tailnum, carrier)", on_orphan: ONORPHAN}
        - {column: dest, references: airports.faa, on_orphan: warn}
      thresholds: {max_quarantine_rate: 0.9, max_row_loss: 0.9}
`

var (
	planesRows   = [][]any{{"AA", "N1"}, {"AA", "N2"}, {"UA", "N1"}}
	airportsRows = [][]any{{"JFK"}, {"LAX"}}
	flightsRows  = [][]any{
		{"F1", "AA", "N1", "JFK"},
		{"F2", "UA", "N2", "SJU"}, // UA and N2 both exist, the pair does not: orphan
		{"F3", "UA", "N2", "SJU"},
		{"F4", "AA", nil, "BQN"}, // a NULL key column references nothing: no orphan
		{"F5", "DL", "N9", "JFK"},
		{"F6", "AA", "N2", "SJU"},
	}
)

// buildFlights publishes planes and airports, then builds and validates flights.
func buildFlights(t *testing.T, onOrphan string) (*tasks.Env, *audit.Record, *audit.Report, *lake.Partition, error) {
	t.Helper()
	env := newEnv(t, strings.Replace(flightsSpec, "ONORPHAN", onOrphan, 1), "run1")
	writeBronze(t, env, "planes", day, planesRows)
	writeBronze(t, env, "airports", day, airportsRows)
	writeBronze(t, env, "flights", day, flightsRows)
	buildValidatePublish(t, env, "planes")
	buildValidatePublish(t, env, "airports")
	ctx := context.Background()
	rec, err := silver.Build(ctx, env, silver.Options{Table: "flights", Partition: day})
	if err != nil {
		t.Fatalf("build flights: %v", err)
	}
	_, rep, err := silver.Validate(ctx, env, silver.Options{Table: "flights", Partition: day})
	staged, serr := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Quarantine, "flights", "ingestion_dt", day)
	if serr != nil {
		t.Fatal(serr)
	}
	sv, serr := lake.ReadStaged(ctx, env.Lake, env.RunID, lake.Silver, "flights", "ingestion_dt", day)
	if serr != nil {
		t.Fatal(serr)
	}
	if got := query(t, sv, env, "SELECT string_agg(flight_id, ',' ORDER BY flight_id) FROM t"); len(got) != 1 {
		t.Fatalf("silver flights: %v", got)
	} else {
		t.Logf("silver flights (%s): %s", onOrphan, got[0])
	}
	return env, rec, rep, staged, err
}

func checkNamed(t *testing.T, rep *audit.Report, name string) audit.Check {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", name, rep.Checks)
	return audit.Check{}
}

func TestCompositeForeignKeyQuarantinesOrphansAndReportsMissingKeys(t *testing.T) {
	env, rec, rep, quar, err := buildFlights(t, "quarantine")
	if err != nil {
		t.Fatalf("validate flights: %v (a warn key never fails the gate)", err)
	}
	if rec.RowsQuarantined != 3 || rec.RowsOut != 3 || rec.Reasons["fk_orphan:tailnum,carrier"] != 3 {
		t.Errorf("build: out %d quarantined %d reasons %v; want 3 out, 3 fk_orphan:tailnum,carrier", rec.RowsOut, rec.RowsQuarantined, rec.Reasons)
	}
	got := query(t, quar, env, "SELECT flight_id || ' ' || _reject_reason FROM t ORDER BY flight_id")
	want := []string{"F2 fk_orphan:tailnum,carrier", "F3 fk_orphan:tailnum,carrier", "F5 fk_orphan:tailnum,carrier"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("quarantine = %v, want %v", got, want)
	}

	c := checkNamed(t, rep, "fk_integrity:tailnum,carrier")
	wantTop := []audit.KeyCount{{Key: "N2|UA", Rows: 2}, {Key: "N9|DL", Rows: 1}}
	if c.Status != audit.Pass || c.Observed != int64(3) || !reflect.DeepEqual(c.TopMissing, wantTop) {
		t.Errorf("composite check = %+v; want pass, observed 3 orphan rows, top %v", c, wantTop)
	}
	if c.Message == "ok" || !strings.Contains(c.Message, "3 rows quarantined as fk_orphan:tailnum,carrier") || !strings.Contains(c.Message, "N2|UA (2), N9|DL (1)") {
		t.Errorf("composite check message %q does not count the orphans and name the missing keys", c.Message)
	}

	// The warn key: its orphans stay in silver (F4 BQN, F6 SJU; F2, F3 went to quarantine).
	w := checkNamed(t, rep, "fk_integrity:dest")
	if w.Status != audit.Warn || w.Observed != int64(2) || !reflect.DeepEqual(w.TopMissing, []audit.KeyCount{{Key: "BQN", Rows: 1}, {Key: "SJU", Rows: 1}}) {
		t.Errorf("warn check = %+v", w)
	}
	if rep.Status != audit.Warn {
		t.Errorf("report status %s, want warn", rep.Status)
	}
}

func TestWarnForeignKeyKeepsOrphansInSilver(t *testing.T) {
	_, rec, rep, quar, err := buildFlights(t, "warn")
	if err != nil || fail.Code(err) != fail.OK {
		t.Fatalf("validate flights: %v (code %d); a warn key never fails the gate", err, fail.Code(err))
	}
	if rec.RowsOut != 6 || rec.RowsQuarantined != 0 || len(rec.Orphans) != 0 {
		t.Errorf("build: out %d quarantined %d orphans %v; want every row in silver", rec.RowsOut, rec.RowsQuarantined, rec.Orphans)
	}
	if quar.Manifest.RowCount != 0 {
		t.Errorf("quarantine holds %d rows, want 0", quar.Manifest.RowCount)
	}
	c := checkNamed(t, rep, "fk_integrity:tailnum,carrier")
	if c.Status != audit.Warn || c.Observed != int64(3) || c.Threshold != "warn" ||
		!reflect.DeepEqual(c.TopMissing, []audit.KeyCount{{Key: "N2|UA", Rows: 2}, {Key: "N9|DL", Rows: 1}}) {
		t.Errorf("composite warn check = %+v", c)
	}
	if !strings.Contains(c.Message, "3 rows kept in silver (on_orphan: warn) with 2 keys") {
		t.Errorf("message %q", c.Message)
	}
	w := checkNamed(t, rep, "fk_integrity:dest")
	if w.Observed != int64(4) || !reflect.DeepEqual(w.TopMissing, []audit.KeyCount{{Key: "SJU", Rows: 3}, {Key: "BQN", Rows: 1}}) {
		t.Errorf("dest warn check = %+v", w)
	}
	if rep.Status != audit.Warn || len(rep.Failed()) != 0 {
		t.Errorf("report status %s, failed %v; want warn, none", rep.Status, rep.Failed())
	}
}

// A quarantining key whose parent lost keys after the build (a newer run
// republished the parent's earlier partition in between) finds orphans in silver:
// the check fails, and the gate's one-line error names the missing keys with
// their row counts.
func TestForeignKeyCheckFailsNamingMissingKeys(t *testing.T) {
	const before = "2026-11-19"
	env := newEnv(t, strings.Replace(flightsSpec, "ONORPHAN", "quarantine", 1), "run1")
	ctx := context.Background()
	publishPlanes := func(env *tasks.Env, rows [][]any) {
		writeBronze(t, env, "planes", before, rows)
		o := silver.Options{Table: "planes", Partition: before}
		if _, err := silver.Build(ctx, env, o); err != nil {
			t.Fatal(err)
		}
		if _, _, err := silver.Validate(ctx, env, o); err != nil {
			t.Fatal(err)
		}
		if _, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "planes", Partition: before}); err != nil {
			t.Fatal(err)
		}
	}
	run0 := *env
	run0.RunID = "run0"
	publishPlanes(&run0, planesRows)
	writeBronze(t, env, "airports", day, airportsRows)
	writeBronze(t, env, "flights", day, flightsRows)
	buildValidatePublish(t, env, "airports")
	if _, err := silver.Build(ctx, env, silver.Options{Table: "flights", Partition: day}); err != nil {
		t.Fatal(err)
	}
	run2 := *env
	run2.RunID = "run2"
	publishPlanes(&run2, planesRows[1:]) // AA N1 is gone

	_, rep, err := silver.Validate(ctx, env, silver.Options{Table: "flights", Partition: day})
	if fail.Code(err) != fail.BadData {
		t.Fatalf("validate: code %d, err %v; want exit 3", fail.Code(err), err)
	}
	if !strings.Contains(err.Error(), "fk_integrity:tailnum,carrier: 1 rows in silver") || !strings.Contains(err.Error(), "N1|AA (1)") {
		t.Errorf("error does not count the orphans and name the missing key: %v", err)
	}
	c := checkNamed(t, rep, "fk_integrity:tailnum,carrier")
	if c.Status != audit.Fail || c.Observed != int64(1) || !reflect.DeepEqual(c.SampleKeys, []string{"N1|AA"}) {
		t.Errorf("check = %+v", c)
	}
}

// A dedup loser is in quarantine as "deduplicated", found by its key, counted as
// deduplicated (not quarantined), and left out of the quarantine rate; publish's
// audit splits the quarantine partition the same way.
func TestDeduplicatedRowsAreQueryableInQuarantine(t *testing.T) {
	env := newEnv(t, testSpec, "run1")
	writeBronze(t, env, "customers", day, [][]any{
		{"C1", "v1@x.io", "2026-11-20 09:00:00"},
		{"C1", "v3@x.io", "2026-11-20 11:00:00"}, // the newest survives
		{"C1", "v2@x.io", "2026-11-20 10:00:00"},
		{"C2", "c2@x.io", "2026-11-20 10:00:00"},
	})
	ctx := context.Background()
	rec, err := silver.Build(ctx, env, silver.Options{Table: "customers", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if rec.RowsIn != 4 || rec.RowsOut != 2 || rec.RowsDeduplicated != 2 || rec.RowsQuarantined != 0 || len(rec.Reasons) != 0 {
		t.Errorf("build counts: %+v", rec)
	}
	_, rep, err := silver.Validate(ctx, env, silver.Options{Table: "customers", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if c := checkNamed(t, rep, "quarantine_rate"); c.Observed != 0.0 {
		t.Errorf("quarantine_rate observed %v: deduplicated rows must not count", c.Observed)
	}
	if c := checkNamed(t, rep, "conservation"); c.Status != audit.Pass {
		t.Errorf("conservation = %+v", c)
	}
	prec, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day})
	if err != nil {
		t.Fatal(err)
	}
	if prec.RowsQuarantined != 0 || prec.RowsDeduplicated != 2 {
		t.Errorf("publish audit: quarantined %d deduplicated %d, want 0 and 2", prec.RowsQuarantined, prec.RowsDeduplicated)
	}
	q, err := lake.ReadCommitted(ctx, env.Lake, lake.Quarantine, "customers", "ingestion_dt", day)
	if err != nil {
		t.Fatal(err)
	}
	got := query(t, q, env, "SELECT email || ' ' || _reject_reason || ' ' || _source_row FROM t WHERE customer_id = 'C1' ORDER BY _source_row")
	want := []string{"v1@x.io deduplicated 0", "v2@x.io deduplicated 2"}
	if !reflect.DeepEqual(got, want) || q.Manifest.RowCount != 2 {
		t.Errorf("quarantine of C1 = %v (manifest rows %d), want %v", got, q.Manifest.RowCount, want)
	}
}

// TestForeignKeyLookbackLimitsParentPartitions: with lookback 1d the orders of D
// are checked against the customers of D-1 and D only, so a customer committed
// earlier no longer answers (an orphan), while the unbounded key reads every day.
func TestForeignKeyLookbackLimitsParentPartitions(t *testing.T) {
	for _, tc := range []struct {
		lookback string
		parents  []string
		orphans  int64
	}{
		{"", []string{"2026-11-15", "2026-11-19", "2026-11-20"}, 0},
		{"1d", []string{"2026-11-19", "2026-11-20"}, 1},
		{"0d", []string{"2026-11-20"}, 2},
	} {
		t.Run("lookback="+tc.lookback, func(t *testing.T) {
			y := testSpec
			if tc.lookback != "" {
				y = strings.Replace(y, "references: customers.customer_id}", "references: customers.customer_id, lookback: "+tc.lookback+"}", 1)
			}
			env := newEnv(t, y, "run1")
			ctx := context.Background()
			for i, d := range []string{"2026-11-15", "2026-11-19", "2026-11-20"} {
				id := fmt.Sprintf("C%d", i+1)
				writeBronze(t, env, "customers", d, [][]any{{id, id + "@x.io", d + " 10:00:00"}})
				for _, step := range []func() error{
					func() error {
						_, err := silver.Build(ctx, env, silver.Options{Table: "customers", Partition: d})
						return err
					},
					func() error {
						_, _, err := silver.Validate(ctx, env, silver.Options{Table: "customers", Partition: d})
						return err
					},
					func() error {
						_, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: d})
						return err
					},
				} {
					if err := step(); err != nil {
						t.Fatalf("customers %s: %v", d, err)
					}
				}
			}
			orders, _ := env.Spec.SilverTable("orders")
			customers, _ := env.Spec.SilverTable("customers")
			parts, err := silver.ParentPartitions(ctx, env, customers, day, orders.ForeignKeys[0].Window())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range parts {
				got = append(got, p.Manifest.Partition["ingestion_dt"])
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tc.parents) {
				t.Errorf("parent partitions = %v, want %v", got, tc.parents)
			}
			writeBronze(t, env, "orders", day, [][]any{{"O1", "C1", "1.00", "paid"}, {"O2", "C2", "1.00", "paid"}, {"O3", "C3", "1.00", "paid"}})
			rec, err := silver.Build(ctx, env, silver.Options{Table: "orders", Partition: day})
			if err != nil {
				t.Fatal(err)
			}
			if rec.Reasons["fk_orphan:customer_id"] != tc.orphans {
				t.Errorf("orphans = %d (reasons %v), want %d", rec.Reasons["fk_orphan:customer_id"], rec.Reasons, tc.orphans)
			}
		})
	}
}
