package spec

import (
	"os"
	"strings"
	"testing"
)

// The reference spec uses every task kind the graph schedules, and the graph
// makes nodes of scheduled kinds only, with the layer the kind names.
func TestKindsScheduledAreTheGraphs(t *testing.T) {
	s, err := Load(os.DirFS("../../specs/shop"), "specs/shop")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, n := range s.Graph().Nodes() {
		k, ok := KindOf(n.Task)
		if !ok || !k.Scheduled {
			t.Errorf("node %s: task %q is not a scheduled kind", n.ID, n.Task)
			continue
		}
		if k.Layer != "" && k.Layer != n.Layer {
			t.Errorf("node %s: layer %q, kind %s says %q", n.ID, n.Layer, k.Name, k.Layer)
		}
		used[n.Task] = true
	}
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.Name] {
			t.Errorf("kind %s is listed twice", k.Name)
		}
		seen[k.Name] = true
		if k.Scheduled && !used[k.Name] {
			t.Errorf("scheduled kind %s has no node in the reference spec's graph", k.Name)
		}
		if k.Scheduled && (len(k.Command) == 0 || k.TableFlag == "" || k.Does == "") {
			t.Errorf("scheduled kind %s lacks a command, table flag or description", k.Name)
		}
	}
}

func TestKindArgs(t *testing.T) {
	o := PodArgs{Partition: "P", BronzeWait: "2h"}
	for _, tc := range []struct {
		node Node
		want string
	}{
		{node(TaskBronzeValidate, "orders"), "bronze validate --table orders --partition P --wait 2h"},
		{node(TaskSilverBuild, "orders"), "silver build --table orders --partition P"},
		{publishNode(LayerDims, "customers"), "publish --layer dims --table customers --partition P"},
		{node(TaskDimsSnapshot, "customers"), "dims snapshot --dim customers --partition P --if-stale"},
		{node(TaskEnrichedValidate, "ltv"), "enriched validate --transform ltv --partition P"},
		{node(TaskGoldLoad, "silver.orders"), "gold load --table silver.orders --partition P"},
		{node(TaskGoldBuild, "fct_orders"), "gold build --mart fct_orders --partition P"},
	} {
		k, ok := KindOf(tc.node.Task)
		if !ok {
			t.Fatalf("no kind %s", tc.node.Task)
		}
		if got := strings.Join(k.Args(tc.node, o), " "); got != tc.want {
			t.Errorf("%s: args %q, want %q", tc.node.ID, got, tc.want)
		}
	}
	if k, _ := KindOf(TaskGC); k.Args(Node{Task: TaskGC}, o) != nil {
		t.Errorf("gc is not scheduled, yet has pod args")
	}
}

func TestPublishGate(t *testing.T) {
	for layer, want := range map[string]string{LayerSilver: TaskSilverValidate, LayerEnriched: TaskEnrichedValidate, LayerDims: TaskDimsSnapshot} {
		if k, ok := PublishGate(layer); !ok || k.Name != want {
			t.Errorf("PublishGate(%s) = %s, %v; want %s", layer, k.Name, ok, want)
		}
	}
	for _, layer := range []string{LayerBronze, LayerGold, "nope"} {
		if k, ok := PublishGate(layer); ok {
			t.Errorf("PublishGate(%s) = %s, want none", layer, k.Name)
		}
	}
}
