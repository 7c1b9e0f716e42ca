package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Layer names, in the order the pipeline runs them.
const (
	LayerBronze   = "bronze"
	LayerSilver   = "silver"
	LayerDims     = "dims"
	LayerEnriched = "enriched"
	LayerGold     = "gold"
)

// Layers returns the layer names in run order.
func Layers() []string {
	return []string{LayerBronze, LayerSilver, LayerDims, LayerEnriched, LayerGold}
}

func layerRank(l string) int {
	for i, x := range Layers() {
		if x == l {
			return i
		}
	}
	return len(Layers())
}

// Node is one task of the pipeline for one table.
type Node struct {
	// ID is unique in the graph: "silver.build.orders", "publish.dims.customers",
	// "gold.load.silver.orders".
	ID string `json:"id"`
	// Task is the task kind (Task* constants; Kinds describes each).
	Task string `json:"task"`
	// Layer is the layer the task works on; publish nodes carry the published layer.
	Layer string `json:"layer"`
	// Table is the table, dim, transform or mart. For gold.load it is the
	// layer-qualified source ("silver.orders", "enriched.customer_ltv").
	Table string `json:"table"`
}

// Edge says From must finish before To starts.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Graph is the task graph a spec implies.
type Graph struct {
	nodes map[string]Node
	deps  map[string]map[string]bool // to -> froms
	// origin maps an edge to the spec path that implies it (a foreign key, a
	// depends_on entry), so a cycle can be reported where it is written.
	origin map[Edge]string
}

func newGraph() *Graph {
	return &Graph{nodes: map[string]Node{}, deps: map[string]map[string]bool{}, origin: map[Edge]string{}}
}

func (g *Graph) add(n Node) string {
	if _, ok := g.nodes[n.ID]; !ok {
		g.nodes[n.ID] = n
		g.deps[n.ID] = map[string]bool{}
	}
	return n.ID
}

func (g *Graph) edge(from, to, origin string) {
	if from == to {
		return
	}
	g.deps[to][from] = true
	if origin != "" {
		if _, ok := g.origin[Edge{from, to}]; !ok {
			g.origin[Edge{from, to}] = origin
		}
	}
}

// node is the node of a task kind for a table, in the kind's layer.
func node(task, table string) Node {
	k, _ := KindOf(task)
	return Node{ID: task + "." + table, Task: task, Layer: k.Layer, Table: table}
}

// publishNode is the node that publishes a table of a layer.
// PublishID is the id of the node that publishes a layer's table.
func PublishID(layer, table string) string { return publishNode(layer, table).ID }

func publishNode(layer, table string) Node {
	return Node{ID: TaskPublish + "." + layer + "." + table, Task: TaskPublish, Layer: layer, Table: table}
}

// Graph builds the task graph: bronze gates, silver build/validate/publish with
// foreign-key parents first, dim snapshots, enriched transforms, gold loads and
// marts. Entries that do not resolve (only in a spec Load rejected) are left out.
func (s *Spec) Graph() *Graph {
	g := newGraph()
	for _, t := range s.BaseSilver.Tables {
		build := g.add(node(TaskSilverBuild, t.Name))
		val := g.add(node(TaskSilverValidate, t.Name))
		pub := g.add(publishNode(LayerSilver, t.Name))
		if _, ok := s.BronzeTable(t.Source); ok {
			g.edge(g.add(node(TaskBronzeValidate, t.Source)), build, "")
		}
		g.edge(build, val, "")
		g.edge(val, pub, "")
	}
	for i, t := range s.BaseSilver.Tables {
		for k, fk := range t.ForeignKeys {
			parent := fk.ParentTable()
			if _, ok := s.SilverTable(parent); !ok || parent == t.Name {
				continue
			}
			o := joinPath(indexPath(joinPath(indexPath("base_silver.tables", i), "foreign_keys"), k), "references")
			g.edge(publishNode(LayerSilver, parent).ID, node(TaskSilverBuild, t.Name).ID, o)
		}
	}
	for _, d := range s.Dims {
		snap := g.add(node(TaskDimsSnapshot, d.Name))
		pub := g.add(publishNode(LayerDims, d.Name))
		if _, ok := s.SilverTable(d.Source); ok {
			g.edge(publishNode(LayerSilver, d.Source).ID, snap, "")
		}
		g.edge(snap, pub, "")
	}
	for _, t := range s.Enriched.Transforms {
		build := g.add(node(TaskEnrichedBuild, t.Name))
		val := g.add(node(TaskEnrichedValidate, t.Name))
		pub := g.add(publishNode(LayerEnriched, t.Name))
		g.edge(build, val, "")
		g.edge(val, pub, "")
	}
	for i, t := range s.Enriched.Transforms {
		build := node(TaskEnrichedBuild, t.Name).ID
		for k, d := range t.DependsOn {
			r, err := ParseRef(d.Table)
			if err != nil {
				continue
			}
			o := indexPath(joinPath(indexPath("enriched.transforms", i), "depends_on"), k)
			if from, ok := s.publishOf(r); ok {
				g.edge(from, build, o)
			}
		}
	}
	for _, kind := range []struct {
		key   string
		marts []Mart
	}{{"gold.facts", s.Gold.Facts}, {"gold.dims", s.Gold.Dims}} {
		for _, m := range kind.marts {
			g.add(node(TaskGoldBuild, m.Name))
		}
	}
	for _, kind := range []struct {
		key   string
		marts []Mart
	}{{"gold.facts", s.Gold.Facts}, {"gold.dims", s.Gold.Dims}} {
		for i, m := range kind.marts {
			build := node(TaskGoldBuild, m.Name).ID
			for k, d := range m.DependsOn {
				r, err := ParseRef(d.Table)
				if err != nil {
					continue
				}
				o := indexPath(joinPath(indexPath(kind.key, i), "depends_on"), k)
				switch r.Layer {
				case LayerSilver, LayerEnriched:
					pub, ok := s.publishOf(r)
					if !ok {
						continue
					}
					load := g.add(node(TaskGoldLoad, r.String()))
					g.edge(pub, load, "")
					g.edge(load, build, o)
				case LayerDims:
					if pub, ok := s.publishOf(r); ok {
						g.edge(pub, build, o)
					}
				case LayerGold:
					if _, ok := s.Mart(r.Name); ok {
						g.edge(node(TaskGoldBuild, r.Name).ID, build, o)
					}
				}
			}
		}
	}
	return g
}

// publishOf is the node that publishes what a silver, dims or enriched ref reads.
func (s *Spec) publishOf(r Ref) (string, bool) {
	switch r.Layer {
	case LayerSilver:
		if t, _, ok := s.SilverOf(r.Name); ok {
			return publishNode(LayerSilver, t.Name).ID, true
		}
	case LayerDims:
		if d, _, ok := s.DimOf(r.Name); ok {
			return publishNode(LayerDims, d.Name).ID, true
		}
	case LayerEnriched:
		if _, ok := s.Transform(r.Name); ok {
			return publishNode(LayerEnriched, r.Name).ID, true
		}
	}
	return "", false
}

// Node returns the node with the given id.
func (g *Graph) Node(id string) (Node, bool) {
	n, ok := g.nodes[id]
	return n, ok
}

// Nodes returns every node in topological order (by rank if the graph has a cycle).
func (g *Graph) Nodes() []Node {
	ns, err := g.TopoOrder()
	if err != nil {
		return g.ranked()
	}
	return ns
}

// Deps returns the ids a node waits for, sorted.
func (g *Graph) Deps(id string) []string {
	return sortedKeys(g.deps[id])
}

// Dependents returns the ids that wait for a node, sorted.
func (g *Graph) Dependents(id string) []string {
	var out []string
	for to, froms := range g.deps {
		if froms[id] {
			out = append(out, to)
		}
	}
	sort.Strings(out)
	return out
}

// Edges returns every edge, sorted by From then To.
func (g *Graph) Edges() []Edge {
	var es []Edge
	for to, froms := range g.deps {
		for from := range froms {
			es = append(es, Edge{from, to})
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].From != es[j].From {
			return es[i].From < es[j].From
		}
		return es[i].To < es[j].To
	})
	return es
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// less orders nodes by layer (bronze, silver, dims, enriched, gold), then id.
func (g *Graph) less(a, b string) bool {
	ra, rb := layerRank(g.nodes[a].Layer), layerRank(g.nodes[b].Layer)
	if ra != rb {
		return ra < rb
	}
	return a < b
}

func (g *Graph) ranked() []Node {
	ids := make([]string, 0, len(g.nodes))
	for id := range g.nodes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return g.less(ids[i], ids[j]) })
	out := make([]Node, len(ids))
	for i, id := range ids {
		out[i] = g.nodes[id]
	}
	return out
}

// CycleError is a dependency cycle in the task graph.
type CycleError struct {
	// Path lists the node ids of the cycle, the first repeated at the end.
	Path []string
}

func (e *CycleError) Error() string {
	return "task graph has a cycle: " + strings.Join(e.Path, " -> ")
}

// TopoOrder returns the nodes so that every node comes after its dependencies.
// Among ready nodes the lowest rank goes first (layer order, then id), so the order
// is deterministic. A cycle returns a *CycleError.
func (g *Graph) TopoOrder() ([]Node, error) {
	indeg := map[string]int{}
	for id, froms := range g.deps {
		indeg[id] = len(froms)
	}
	var ready []string
	for id, d := range indeg {
		if d == 0 {
			ready = append(ready, id)
		}
	}
	dependents := map[string][]string{}
	for to, froms := range g.deps {
		for from := range froms {
			dependents[from] = append(dependents[from], to)
		}
	}
	out := make([]Node, 0, len(g.nodes))
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return g.less(ready[i], ready[j]) })
		id := ready[0]
		ready = ready[1:]
		out = append(out, g.nodes[id])
		for _, to := range dependents[id] {
			indeg[to]--
			if indeg[to] == 0 {
				ready = append(ready, to)
			}
		}
	}
	if len(out) < len(g.nodes) {
		return nil, &CycleError{Path: g.findCycle(indeg)}
	}
	return out, nil
}

// findCycle returns one cycle among the nodes Kahn's algorithm could not order
// (indeg > 0), starting from the lowest-ranked such node.
func (g *Graph) findCycle(indeg map[string]int) []string {
	var left []string
	for id, d := range indeg {
		if d > 0 {
			left = append(left, id)
		}
	}
	sort.Slice(left, func(i, j int) bool { return g.less(left[i], left[j]) })
	// Walk backwards along dependencies that are themselves unordered: every such
	// node has one, so the walk must revisit a node, closing a cycle.
	onPath := map[string]int{}
	var path []string
	cur := left[0]
	for {
		if i, seen := onPath[cur]; seen {
			cyc := append([]string(nil), path[i:]...)
			// path runs against the edges; reverse it to read as from -> to.
			for a, b := 0, len(cyc)-1; a < b; a, b = a+1, b-1 {
				cyc[a], cyc[b] = cyc[b], cyc[a]
			}
			// Start at the lowest-ranked node, so the message is stable.
			lo := 0
			for i := range cyc {
				if g.less(cyc[i], cyc[lo]) {
					lo = i
				}
			}
			cyc = append(cyc[lo:], cyc[:lo]...)
			return append(cyc, cyc[0])
		}
		onPath[cur] = len(path)
		path = append(path, cur)
		next := ""
		for _, from := range sortedKeys(g.deps[cur]) {
			if indeg[from] > 0 {
				next = from
				break
			}
		}
		cur = next
	}
}

// SilverOrder returns the base-silver tables in build order, level by level: the
// tables with no foreign-key parent, then those whose parents are all listed, and
// so on, each level by name.
func (g *Graph) SilverOrder() []string {
	parents := map[string]map[string]bool{}
	for id, n := range g.nodes {
		if n.Task != TaskSilverBuild {
			continue
		}
		parents[n.Table] = map[string]bool{}
		for from := range g.deps[id] {
			if f := g.nodes[from]; f.Task == TaskPublish && f.Layer == LayerSilver {
				parents[n.Table][f.Table] = true
			}
		}
	}
	var out []string
	done := map[string]bool{}
	for len(done) < len(parents) {
		var ready []string
		for t, ps := range parents {
			if done[t] {
				continue
			}
			ok := true
			for p := range ps {
				if !done[p] {
					ok = false
					break
				}
			}
			if ok {
				ready = append(ready, t)
			}
		}
		if len(ready) == 0 { // a cycle: finish by name
			for t := range parents {
				if !done[t] {
					ready = append(ready, t)
				}
			}
		}
		// Take the whole level at once, so roots come first, then their children...
		sort.Strings(ready)
		out = append(out, ready...)
		for _, t := range ready {
			done[t] = true
		}
	}
	return out
}

// Text renders the graph one node per line in topological order:
// "id  <- dep1, dep2" (just "id" for a node with no dependencies).
func (g *Graph) Text() string {
	var b strings.Builder
	for _, n := range g.Nodes() {
		b.WriteString(n.ID)
		if deps := g.Deps(n.ID); len(deps) > 0 {
			b.WriteString("  <- ")
			b.WriteString(strings.Join(deps, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// mermaidID makes a node id usable as a Mermaid node name.
func mermaidID(id string) string { return strings.ReplaceAll(id, ".", "_") }

// Mermaid renders the graph as a Mermaid flowchart, one subgraph per layer.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	nodes := g.Nodes()
	for _, l := range Layers() {
		var in []Node
		for _, n := range nodes {
			if n.Layer == l {
				in = append(in, n)
			}
		}
		if len(in) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  subgraph %s\n", l)
		for _, n := range in {
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", mermaidID(n.ID), n.ID)
		}
		b.WriteString("  end\n")
	}
	for _, e := range g.Edges() {
		fmt.Fprintf(&b, "  %s --> %s\n", mermaidID(e.From), mermaidID(e.To))
	}
	return b.String()
}

// MarshalJSON renders {"nodes": [...], "edges": [...]}: nodes in topological
// order, edges sorted.
func (g *Graph) MarshalJSON() ([]byte, error) {
	edges := g.Edges()
	if edges == nil {
		edges = []Edge{}
	}
	return json.Marshal(struct {
		Nodes []Node `json:"nodes"`
		Edges []Edge `json:"edges"`
	}{g.Nodes(), edges})
}

// JSON is MarshalJSON indented for people, with a final newline.
func (g *Graph) JSON() ([]byte, error) {
	b, err := g.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
