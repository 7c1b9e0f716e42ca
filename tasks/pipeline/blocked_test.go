package pipeline

import (
	"testing"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/specs"
)

// TestBlockedBy pins the skip logic of Run on the reference spec's graph: a step
// skips for a failed or skipped dependency in its own partition (naming the first
// cause), for a publish it depends on through any path that broke in an earlier
// partition, and a publish has nothing to do when what it publishes had nothing to do.
func TestBlockedBy(t *testing.T) {
	s, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Graph()
	const d1, d2 = "2026-11-20", "2026-11-21"
	step := func(id, part string) Step {
		t.Helper()
		n, ok := g.Node(id)
		if !ok {
			t.Fatalf("node %s not in the shop graph", id)
		}
		return Step{Node: n, Partition: part}
	}
	outcome := func(id, part, status, because string) Outcome {
		return Outcome{Step: step(id, part), Status: status, SkippedBecause: because}
	}
	for _, c := range []struct {
		name          string
		step          Step
		done          []Outcome
		brokenPublish map[string]string
		wantWhy       string
		wantNothing   bool
	}{
		{name: "no dependency ran (outside the stage range)", step: step("silver.build.orders", d1)},
		{
			name: "dependencies succeeded",
			step: step("silver.build.orders", d1),
			done: []Outcome{
				outcome("bronze.validate.orders", d1, audit.StatusSuccess, ""),
				outcome("publish.silver.customers", d1, audit.StatusSuccess, ""),
			},
		},
		{
			name:    "a dependency failed in the same partition",
			step:    step("silver.validate.orders", d1),
			done:    []Outcome{outcome("silver.build.orders", d1, audit.StatusFailed, "")},
			wantWhy: "silver.build.orders " + d1,
		},
		{
			name:    "a skipped dependency passes on its cause",
			step:    step("publish.silver.orders", d1),
			done:    []Outcome{outcome("silver.validate.orders", d1, audit.StatusSkipped, "silver.build.orders "+d1)},
			wantWhy: "silver.build.orders " + d1,
		},
		{
			name: "a failure in another partition is not a direct block",
			step: step("silver.validate.orders", d2),
			done: []Outcome{outcome("silver.build.orders", d1, audit.StatusFailed, "")},
		},
		{
			name:          "a publish broken in an earlier partition blocks what reads it through any path",
			step:          step("silver.build.payments", d2), // <- publish.silver.orders <- ... <- publish.silver.customers
			brokenPublish: map[string]string{"publish.silver.customers": "silver.validate.customers " + d1},
			wantWhy:       "silver.validate.customers " + d1,
		},
		{
			name:          "a broken publish elsewhere in the graph does not block",
			step:          step("silver.build.orders", d2),
			brokenPublish: map[string]string{"publish.silver.products": "silver.validate.products " + d1},
		},
		{
			name:        "a publish of a step with nothing to do has nothing to do",
			step:        step("publish.dims.customers", d1),
			done:        []Outcome{outcome("dims.snapshot.customers", d1, StatusNothing, "")},
			wantNothing: true,
		},
		{
			name: "a non-publish step after nothing to do runs",
			step: step("enriched.build.cohort_retention", d1),
			done: []Outcome{
				outcome("publish.dims.customers", d1, StatusNothing, ""),
				outcome("publish.silver.orders", d1, audit.StatusSuccess, ""),
			},
		},
		{
			name: "a failure wins over nothing to do",
			step: step("publish.dims.customers", d1),
			done: []Outcome{
				outcome("dims.snapshot.customers", d1, audit.StatusFailed, ""),
			},
			wantWhy: "dims.snapshot.customers " + d1,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			status := map[string]Outcome{}
			for _, o := range c.done {
				status[o.Step.ID()] = o
			}
			broken := c.brokenPublish
			if broken == nil {
				broken = map[string]string{}
			}
			why, nothing := blockedBy(g, c.step, status, broken, map[string][]string{})
			if why != c.wantWhy || nothing != c.wantNothing {
				t.Errorf("blockedBy(%s) = (%q, %v), want (%q, %v)", c.step.ID(), why, nothing, c.wantWhy, c.wantNothing)
			}
		})
	}
}

// TestBrokenPast: an incremental transform's build skips after its own publish
// broke in an earlier partition (D builds on D-1); other builds do not.
func TestBrokenPast(t *testing.T) {
	s, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Graph()
	broken := map[string]string{
		"publish.enriched.customer_ltv":     "enriched.validate.customer_ltv 2026-11-20",
		"publish.enriched.daily_metrics":    "enriched.validate.daily_metrics 2026-11-20",
		"publish.enriched.cart_attribution": "enriched.build.cart_attribution 2026-11-20",
	}
	for id, want := range map[string]string{
		"enriched.build.customer_ltv":      "enriched.validate.customer_ltv 2026-11-20",
		"enriched.build.daily_metrics":     "", // not incremental: each day stands alone
		"enriched.build.customer_activity": "", // incremental, but its own publish did not break
		"publish.enriched.customer_ltv":    "",
	} {
		n, ok := g.Node(id)
		if !ok {
			t.Fatalf("node %s not in the shop graph", id)
		}
		if got := brokenPast(s, Step{Node: n, Partition: "2026-11-21"}, broken); got != want {
			t.Errorf("brokenPast(%s) = %q, want %q", id, got, want)
		}
	}
}

// publishAncestors follows every path, lists each publish once and sorted.
func TestPublishAncestors(t *testing.T) {
	s, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	got := publishAncestors(s.Graph(), "silver.build.order_items", map[string][]string{})
	want := []string{"publish.silver.customers", "publish.silver.orders", "publish.silver.products"}
	if len(got) != len(want) {
		t.Fatalf("publishAncestors = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("publishAncestors = %v, want %v", got, want)
		}
	}
}
