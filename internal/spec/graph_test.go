package spec

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", p, got)
	}
}

func loadBase(t *testing.T) *Spec {
	t.Helper()
	s, err := Load(specFS(t, nil, nil), "specs/t")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func position(ns []Node) map[string]int {
	pos := map[string]int{}
	for i, n := range ns {
		pos[n.ID] = i
	}
	return pos
}

func TestGraphBase(t *testing.T) {
	g := loadBase(t).Graph()
	order, err := g.TopoOrder()
	if err != nil {
		t.Fatal(err)
	}
	pos := position(order)
	for _, e := range g.Edges() {
		if pos[e.From] >= pos[e.To] {
			t.Errorf("edge %s -> %s against the order", e.From, e.To)
		}
	}
	wantDeps := map[string][]string{
		"silver.build.orders":      {"bronze.validate.orders", "publish.silver.customers"},
		"silver.validate.orders":   {"silver.build.orders"},
		"publish.silver.orders":    {"silver.validate.orders"},
		"dims.snapshot.customers":  {"publish.silver.customers"},
		"enriched.build.ltv":       {"publish.dims.customers", "publish.silver.orders"},
		"gold.load.silver.orders":  {"publish.silver.orders"},
		"gold.load.enriched.ltv":   {"publish.enriched.ltv"},
		"gold.build.fct_orders":    {"gold.load.enriched.ltv", "gold.load.silver.orders"},
		"gold.build.dim_customers": {"gold.build.fct_orders", "publish.dims.customers"},
	}
	for id, want := range wantDeps {
		if got := g.Deps(id); !reflect.DeepEqual(got, want) {
			t.Errorf("Deps(%s) = %v, want %v", id, got, want)
		}
	}
	if n, ok := g.Node("gold.load.silver.orders"); !ok || n != (Node{"gold.load.silver.orders", TaskGoldLoad, LayerGold, "silver.orders"}) {
		t.Errorf("gold load node = %+v, %v", n, ok)
	}
	if n, _ := g.Node("publish.dims.customers"); n != (Node{"publish.dims.customers", TaskPublish, LayerDims, "customers"}) {
		t.Errorf("publish node = %+v", n)
	}
	if got := g.Dependents("publish.silver.customers"); !reflect.DeepEqual(got, []string{"dims.snapshot.customers", "silver.build.orders"}) {
		t.Errorf("Dependents = %v", got)
	}
	if len(order) != 17 {
		t.Errorf("%d nodes, want 17", len(order))
	}

	text := g.Text()
	if !strings.HasPrefix(text, "bronze.validate.customers\nbronze.validate.orders\nsilver.build.customers  <- bronze.validate.customers\n") ||
		!strings.Contains(text, "\nsilver.build.orders  <- bronze.validate.orders, publish.silver.customers\n") {
		t.Errorf("Text:\n%s", text)
	}
	golden(t, "graph.txt", []byte(text))

	m := g.Mermaid()
	for _, want := range []string{
		"flowchart LR\n  subgraph bronze\n    bronze_validate_customers[\"bronze.validate.customers\"]\n",
		"  subgraph gold\n",
		"  publish_silver_customers --> silver_build_orders\n",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("Mermaid lacks %q:\n%s", want, m)
		}
	}
	golden(t, "graph.mmd", []byte(m))

	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Nodes []Node `json:"nodes"`
		Edges []Edge `json:"edges"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j.Nodes, order) || !reflect.DeepEqual(j.Edges, g.Edges()) {
		t.Errorf("JSON round trip differs: %s", b)
	}
	b2, _ := json.Marshal(loadBase(t).Graph())
	if string(b) != string(b2) {
		t.Error("graph JSON is not deterministic")
	}
	golden(t, "graph.json", append(b, '\n'))
}

func TestGraphReferenceSpec(t *testing.T) {
	s, err := Load(os.DirFS("../../specs/shop"), "specs/shop")
	if err != nil {
		t.Fatal(err)
	}
	g := s.Graph()
	order, err := g.TopoOrder()
	if err != nil {
		t.Fatal(err)
	}
	pos := position(order)
	before := [][2]string{
		{"publish.silver.customers", "silver.build.orders"},
		{"publish.silver.orders", "silver.build.order_items"},
		{"publish.silver.products", "silver.build.order_items"},
		{"bronze.validate.orders", "silver.build.orders"},
		{"publish.silver.customers", "dims.snapshot.customers"},
		{"dims.snapshot.products", "publish.dims.products"},
	}
	for _, b := range before {
		if _, ok := pos[b[0]]; !ok {
			t.Errorf("no node %s", b[0])
		}
		if pos[b[0]] >= pos[b[1]] {
			t.Errorf("%s is not before %s", b[0], b[1])
		}
	}
	so := g.SilverOrder()
	idx := map[string]int{}
	for i, t := range so {
		idx[t] = i
	}
	if len(so) != len(s.BaseSilver.Tables) {
		t.Fatalf("SilverOrder = %v", so)
	}
	if !reflect.DeepEqual(so[:2], []string{"customers", "products"}) {
		t.Errorf("SilverOrder starts with %v, want [customers products]", so[:2])
	}
	if !(idx["products"] < idx["orders"] && idx["orders"] < idx["order_items"]) {
		t.Errorf("SilverOrder = %v: want products before orders before order_items", so)
	}
	// Every foreign-key parent comes first.
	for _, tb := range s.BaseSilver.Tables {
		for _, fk := range tb.ForeignKeys {
			if idx[fk.ParentTable()] >= idx[tb.Name] {
				t.Errorf("SilverOrder = %v: %s before its parent %s", so, tb.Name, fk.ParentTable())
			}
		}
	}
}

func TestGraphCycle(t *testing.T) {
	s := &Spec{
		Bronze: Bronze{Tables: []BronzeTable{{Name: "a"}, {Name: "b"}}},
		BaseSilver: BaseSilver{Tables: []SilverTable{
			{Name: "a", Source: "a", ForeignKeys: []ForeignKey{{Column: "x", References: "b.x"}}},
			{Name: "b", Source: "b", ForeignKeys: []ForeignKey{{Column: "x", References: "a.x"}}},
		}},
	}
	g := s.Graph()
	_, err := g.TopoOrder()
	var ce *CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("TopoOrder error = %v, want a CycleError", err)
	}
	want := "task graph has a cycle: publish.silver.a -> silver.build.b -> silver.validate.b -> publish.silver.b -> silver.build.a -> silver.validate.a -> publish.silver.a"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	// The renderings still work, in rank order.
	if len(g.Nodes()) != 8 || !strings.HasPrefix(g.Text(), "bronze.validate.a\n") {
		t.Errorf("Text on a cycle:\n%s", g.Text())
	}
	if so := g.SilverOrder(); !reflect.DeepEqual(so, []string{"a", "b"}) {
		t.Errorf("SilverOrder on a cycle = %v", so)
	}
}

func TestGraphCycleInSpec(t *testing.T) {
	// A foreign-key cycle in YAML: reported once, where the first edge of it is written.
	fsys := specFS(t, [][2]string{{
		"        - {name: customer_id, type: VARCHAR, not_null: true}",
		"        - {name: customer_id, type: VARCHAR, not_null: true}\n      foreign_keys: [{column: customer_id, references: orders.order_id}]",
	}}, nil)
	_, err := Load(fsys, "specs/t")
	want := []string{file + `:20:56: task graph has a cycle: publish.silver.customers -> silver.build.orders -> silver.validate.orders -> publish.silver.orders -> silver.build.customers -> silver.validate.customers -> publish.silver.customers: break it by removing one of these dependencies`}
	if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGraphJSONIndented(t *testing.T) {
	g := loadBase(t).Graph()
	b, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	compact, _ := g.MarshalJSON()
	var x, y any
	if json.Unmarshal(b, &x) != nil || json.Unmarshal(compact, &y) != nil || !reflect.DeepEqual(x, y) {
		t.Errorf("JSON and MarshalJSON differ:\n%s", b)
	}
	if !strings.HasPrefix(string(b), "{\n  \"nodes\": [\n    {\n      \"id\": \"bronze.validate.customers\",") {
		t.Errorf("JSON:\n%s", b)
	}
}
