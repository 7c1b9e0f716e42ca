package dagsgen

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/specs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fullDir is a small spec with every layer and every deploy setting.
const fullDir = "testdata/full"

func load(t *testing.T, dir string) *spec.Spec {
	t.Helper()
	s, err := spec.Load(os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func generate(t *testing.T, s *spec.Spec, o Options) map[string][]byte {
	t.Helper()
	files, err := Generate(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var localOptions = Options{Flavor: FlavorLocal, Worker: "/opt/lake/bin/worker", Lake: "/var/lake", Specs: "/opt/lake/specs/mini"}

// goldenCases are the flavors and deploy settings the golden files cover.
var goldenCases = []struct {
	name   string
	deploy func(*spec.Deploy)
	o      Options
}{
	{"k8s_end_to_end", nil, Options{}},
	{"k8s_layered", func(d *spec.Deploy) { d.Mode = ModeLayered }, Options{Flavor: FlavorK8s}},
	{"k8s_no_gold", func(d *spec.Deploy) { no := false; d.Gold = &no }, Options{}},
	{"local_end_to_end", nil, localOptions},
	{"local_layered", func(d *spec.Deploy) { d.Mode = ModeLayered }, localOptions},
}

func goldenSpec(t *testing.T, deploy func(*spec.Deploy)) *spec.Spec {
	s := load(t, fullDir)
	if deploy != nil {
		deploy(&s.Deploy)
	}
	return s
}

// matchDir compares files with a folder, rewriting it when write is set.
func matchDir(t *testing.T, dir string, files map[string][]byte, marker string, write bool, fix string) {
	t.Helper()
	changes, err := Compare(dir, files, marker)
	if err != nil {
		t.Fatal(err)
	}
	if write {
		if err := Apply(dir, files, changes); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, c := range changes {
		t.Errorf("%s: %s (%s):\n%s", filepath.Join(dir, c.Name), c.Kind, fix, c.Diff)
	}
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			s := goldenSpec(t, c.deploy)
			o, _ := c.o.withDefaults()
			files := generate(t, s, c.o)
			matchDir(t, filepath.Join("testdata", "golden", c.name), files, Marker(s.Pipeline, o.Flavor), *update,
				"go test ./internal/dagsgen -update rewrites it")
		})
	}
}

// TestCommittedDAGs is the staleness check of dags/: the committed files are what
// the embedded reference spec generates.
func TestCommittedDAGs(t *testing.T) {
	s, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	files := generate(t, s, Options{})
	matchDir(t, filepath.Join("..", "..", "dags"), files, Marker(s.Pipeline, FlavorK8s), false,
		"the spec changed: run `go run ./worker dags generate --out dags` and commit dags/")
}

func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases {
		a := generate(t, goldenSpec(t, c.deploy), c.o)
		b := generate(t, goldenSpec(t, c.deploy), c.o)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs of Generate differ", c.name)
		}
	}
}

// TestSpecChangeChangesDAG adds a table to a copy of the spec: the DAG gains its
// tasks and edges, and the header its new hash.
func TestSpecChangeChangesDAG(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, fullDir, dir)
	before := generate(t, load(t, dir), Options{})
	p := filepath.Join(dir, "pipeline.yaml")
	y, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	y = bytes.Replace(y, []byte("base_silver:\n  tables:\n"), []byte(`    - name: payments
      columns:
        - {name: payment_id, type: VARCHAR}
        - {name: order_id, type: VARCHAR}
base_silver:
  tables:
    - name: payments
      source: payments
      primary_key: [payment_id]
      columns:
        - {name: payment_id, type: VARCHAR, not_null: true}
        - {name: order_id, type: VARCHAR}
      foreign_keys:
        - {column: order_id, references: orders.order_id}
`), 1)
	if err := os.WriteFile(p, y, 0o644); err != nil {
		t.Fatal(err)
	}
	s := load(t, dir)
	after := generate(t, s, Options{})
	name := "mini_silver_to_gold.py"
	if bytes.Equal(before[name], after[name]) {
		t.Fatalf("%s did not change with a new table", name)
	}
	got := string(after[name])
	for _, want := range []string{
		`task_id="bronze__validate__payments"`,
		`task_id="silver__build__payments"`,
		`task_id="publish__silver__payments"`,
		"publish__silver__orders >> [\n",
		"        silver__build__payments,\n",
		"# Spec sha256: " + s.SHA256 + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
	if strings.Contains(string(before[name]), "payments") {
		t.Errorf("the DAG before the change already names payments")
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPlanCoversGraph checks, for every mode, that the DAGs hold every node of the
// graph once, and that every edge either lies within a DAG or reaches a DAG that the
// edge's source triggers through its asset (or dims, which are read by freshness,
// or a DAG deploy.schedules runs on a cron).
func TestPlanCoversGraph(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			s := goldenSpec(t, c.deploy)
			o, _ := c.o.withDefaults()
			st, err := newSettings(s, o.Flavor)
			if err != nil {
				t.Fatal(err)
			}
			g := s.Graph()
			dagOf := map[string]*dagPlan{}
			plans := plan(s, st, g, o)
			for i := range plans {
				for _, n := range plans[i].nodes {
					if prev, dup := dagOf[n.ID]; dup {
						t.Errorf("%s is in %s and %s", n.ID, prev.id, plans[i].id)
					}
					dagOf[n.ID] = &plans[i]
				}
			}
			for _, n := range g.Nodes() {
				if _, ok := dagOf[n.ID]; !ok && (st.gold || n.Layer != spec.LayerGold) {
					t.Errorf("node %s is in no DAG", n.ID)
				}
			}
			for _, e := range g.Edges() {
				from, to := dagOf[e.From], dagOf[e.To]
				if from == nil || to == nil || from == to {
					continue
				}
				fromNode, _ := g.Node(e.From)
				switch {
				case fromNode.Layer == spec.LayerDims:
				case to.cron != "":
				case contains(to.assets, assetURI(s, o, fromNode)):
				default:
					t.Errorf("edge %s -> %s crosses from %s to %s with no asset trigger", e.From, e.To, from.id, to.id)
				}
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestDAGSets checks which files each deploy mode generates: never both sets.
func TestDAGSets(t *testing.T) {
	want := map[string][]string{
		"k8s_end_to_end":   {"mini_dims_refresh.py", "mini_silver_to_gold.py"},
		"k8s_layered":      {"mini_bronze.py", "mini_dims_refresh.py", "mini_enriched.py", "mini_gold.py", "mini_silver.py"},
		"k8s_no_gold":      {"mini_dims_refresh.py", "mini_silver_to_gold.py"},
		"local_end_to_end": {"mini_dims_refresh_local.py", "mini_silver_to_gold_local.py"},
		"local_layered":    {"mini_bronze_local.py", "mini_dims_refresh_local.py", "mini_enriched_local.py", "mini_gold_local.py", "mini_silver_local.py"},
	}
	for _, c := range goldenCases {
		files := generate(t, goldenSpec(t, c.deploy), c.o)
		if got := sortedKeys(files); !reflect.DeepEqual(got, want[c.name]) {
			t.Errorf("%s: files %v, want %v", c.name, got, want[c.name])
		}
	}
	noGold := generate(t, goldenSpec(t, goldenCases[2].deploy), Options{})["mini_silver_to_gold.py"]
	if bytes.Contains(noGold, []byte("gold__")) {
		t.Errorf("deploy.gold false still generates gold tasks")
	}
}

// taskCall returns the operator call of a task, its whitespace collapsed.
func taskCall(t *testing.T, py, id string) string {
	t.Helper()
	i := strings.Index(py, "\n        "+id+" = ")
	if i < 0 {
		t.Fatalf("no task %s", id)
	}
	j := strings.Index(py[i:], "\n        )\n")
	return strings.Join(strings.Fields(py[i:i+j]), " ")
}

// TestTaskSettings checks the settings that matter most in the generated code.
func TestTaskSettings(t *testing.T) {
	files := generate(t, load(t, fullDir), Options{})
	py := string(files["mini_silver_to_gold.py"])
	for id, wants := range map[string][]string{
		// gates: no retries; the bronze gate waits deploy.bronze_wait and skips on 4
		"bronze__validate__orders": {
			`"bronze", "validate", "--table", "orders", "--partition", PARTITION, "--wait", "90m", ],`,
			`container_resources=resources(cpu="2", memory="3Gi"), retries=0, pool="big", execution_timeout=datetime.timedelta(minutes=450), skip_on_exit_code=[4],`,
			`outlets=[Asset("lake://mini/bronze/orders")], post_execute=emit_partition,`,
		},
		"silver__validate__customers": {`memory="2Gi"), retries=0,`},
		"enriched__validate__ltv":     {`memory="8Gi"), retries=0,`},
		// per-table overrides over deploy over defaults
		"silver__build__orders": {
			`arguments=[ "--run-id", "{{ run_id }}", "silver", "build", "--table", "orders", "--partition", PARTITION, ],`,
			`container_resources=resources(cpu="2", memory="3Gi"), retries=1, pool="big", execution_timeout=datetime.timedelta(hours=6),`,
		},
		"silver__build__customers": {`container_resources=resources(cpu="2", memory="2Gi"),`},
		"enriched__build__ltv":     {`container_resources=resources(cpu="2", memory="8Gi"),`},
		"gold__load__silver__orders": {
			`"gold", "load", "--table", "silver.orders", "--partition", PARTITION,`,
			`memory="3Gi"), retries=1, pool="big",`,
		},
		// publish tasks emit their asset and put the partition into its extra
		"publish__silver__orders": {
			`"publish", "--layer", "silver", "--table", "orders", "--partition", PARTITION,`,
			`outlets=[Asset("lake://mini/silver/orders")], post_execute=emit_partition,`,
		},
	} {
		call := taskCall(t, py, id)
		for _, want := range wants {
			if !strings.Contains(call, want) {
				t.Errorf("%s lacks %s:\n%s", id, want, call)
			}
		}
		// deploy.execution_timeout comes from default_args; only overrides and bronze gates set their own
		if own := strings.Contains(id, "orders"); own != strings.Contains(call, "execution_timeout=") {
			t.Errorf("%s: own execution_timeout %v, want %v", id, !own, own)
		}
		gate := strings.Contains(id, "__validate__")
		if gate != strings.Contains(call, "retries=0,") {
			t.Errorf("%s: gate %v, retries=0 %v", id, gate, !gate)
		}
	}
	for _, want := range []string{
		"\"retries\": 3,\n        \"retry_delay\": datetime.timedelta(minutes=10),\n        \"execution_timeout\": datetime.timedelta(hours=3),\n        \"pool\": \"lakehouse\",",
		"\"WORKER_BQ_PROJECT\": \"acme-data\",\n            \"WORKER_WAREHOUSE\": \"bigquery\",\n            \"WORKER_XCOM\": \"1\",",
		"k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name=\"mini-worker\")),",
		"\"on_finish_action\": \"delete_succeeded_pod\",",
		"\"do_xcom_push\": True,",
		"\"get_logs\": True,",
		"\"service_account_name\": \"lake-worker\",",
		"schedule=CronDataIntervalTimetable(\"0 3 * * *\", timezone=\"UTC\"),",
		"start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),",
	} {
		if !strings.Contains(py, want) {
			t.Errorf("mini_silver_to_gold.py lacks:\n%s", want)
		}
	}
	// The dims refresh: snapshot only when stale (exit 4 skips), then publish.
	dims := string(files["mini_dims_refresh.py"])
	if call := taskCall(t, dims, "dims__snapshot__customers"); !strings.Contains(call, `"--if-stale", ], container_resources=resources(cpu="2", memory="1Gi"), skip_on_exit_code=[4],`) {
		t.Errorf("dims snapshot: %s", call)
	}
	if !strings.Contains(dims, "schedule=[Asset(\"lake://mini/silver/customers\")],") {
		t.Errorf("dims refresh is not triggered by its source's asset")
	}
}

func TestDeployErrors(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, fullDir, dir)
	p := filepath.Join(dir, "pipeline.yaml")
	y, _ := os.ReadFile(p)
	i := bytes.Index(y, []byte("deploy:\n"))
	bad := append(y[:i:i], []byte(`deploy:
  mode: layerd
  bronze_wait: 2days
  start_date: yesterday
  config_map: Bad_Name
  env: {"1X": a}
  resources: {cpu: lots, memory: 2GB}
  retries: -1
  retry_delay: soon
  tables:
    nope: {retries: -2}
  schedules: {silver: "daily"}
  execution_timeout: 10s
`)...)
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	s := load(t, dir)
	_, err := Generate(s, Options{})
	var es spec.Errors
	if !errors.As(err, &es) {
		t.Fatalf("Generate error is %T (%v), want spec.Errors", err, err)
	}
	var got []string
	for _, e := range es {
		got = append(got, strings.TrimPrefix(e.Error(), dir+"/"))
	}
	want := []string{
		`pipeline.yaml:50:1: deploy.image is required to generate Kubernetes DAGs: the worker's container image`,
		`pipeline.yaml:51:9: deploy.mode "layerd": use end_to_end or layered`,
		`pipeline.yaml:52:16: deploy.bronze_wait "2days": want a duration such as 2h or 90m`,
		`pipeline.yaml:53:15: deploy.start_date "yesterday": want a date, YYYY-MM-DD`,
		`pipeline.yaml:54:15: deploy.config_map "Bad_Name": not a Kubernetes object name (lowercase letters, digits, - and .)`,
		`pipeline.yaml:55:9: deploy.env: "1X" is not an environment variable name`,
		`pipeline.yaml:56:20: deploy.resources.cpu "lots": want a Kubernetes quantity such as 500m or 2`,
		`pipeline.yaml:56:34: deploy.resources.memory "2GB": want a Kubernetes quantity such as 512Mi or 2Gi`,
		`pipeline.yaml:57:12: deploy.retries must not be negative`,
		`pipeline.yaml:58:16: deploy.retry_delay "soon": want a duration such as 5m`,
		`pipeline.yaml:60:21: deploy.tables.nope.retries must not be negative`,
		`pipeline.yaml:60:5: deploy.tables: "nope" is not a table, dim, transform or mart of the spec`,
		`pipeline.yaml:61:23: deploy.schedules.silver "daily": want a cron expression such as "0 2 * * *" or null`,
		`pipeline.yaml:62:22: deploy.execution_timeout "10s": want a duration of at least a minute, such as 2h or 90m`,
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Generate(s, Options{Flavor: "docker"}); err == nil || !strings.Contains(err.Error(), `flavor "docker"`) {
		t.Errorf("bad flavor: %v", err)
	}
}

func TestPodSettings(t *testing.T) {
	s := load(t, fullDir)
	st, err := newSettings(s, FlavorK8s)
	if err != nil {
		t.Fatal(err)
	}
	node := func(id string) spec.Node {
		n, ok := s.Graph().Node(id)
		if !ok {
			t.Fatalf("no node %s", id)
		}
		return n
	}
	for _, c := range []struct {
		id   string
		want pod
	}{
		{"silver.build.customers", pod{cpu: "2", memory: "2Gi", retries: 3, pool: "lakehouse", timeout: 3 * time.Hour}},
		{"silver.build.orders", pod{cpu: "2", memory: "3Gi", retries: 1, pool: "big", timeout: 6 * time.Hour}},
		{"silver.validate.orders", pod{cpu: "2", memory: "3Gi", retries: 0, pool: "big", timeout: 6 * time.Hour}},
		{"gold.load.silver.orders", pod{cpu: "2", memory: "3Gi", retries: 1, pool: "big", timeout: 6 * time.Hour}},
		{"enriched.build.ltv", pod{cpu: "2", memory: "8Gi", retries: 3, pool: "lakehouse", timeout: 3 * time.Hour}},
		{"enriched.validate.ltv", pod{cpu: "2", memory: "8Gi", retries: 0, pool: "lakehouse", timeout: 3 * time.Hour}},
		{"publish.dims.customers", pod{cpu: "2", memory: "1Gi", retries: 3, pool: "lakehouse", timeout: 3 * time.Hour}},
		{"bronze.validate.customers", pod{cpu: "2", memory: "1Gi", retries: 0, pool: "lakehouse", timeout: 3 * time.Hour}},
	} {
		if got := st.pod(node(c.id)); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.id, got, c.want)
		}
	}
	// A bronze gate may poll bronze_wait (90m) before its work starts.
	for id, want := range map[string]time.Duration{"bronze.validate.orders": 7*time.Hour + 30*time.Minute, "bronze.validate.customers": 4*time.Hour + 30*time.Minute, "silver.build.orders": 6 * time.Hour} {
		if got := st.taskTimeout(node(id), st.pod(node(id))); got != want {
			t.Errorf("%s: execution_timeout %s, want %s", id, got, want)
		}
	}
	// Without deploy settings: the built-in defaults.
	shop, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	st, err = newSettings(shop, FlavorK8s)
	if err != nil {
		t.Fatal(err)
	}
	for task, want := range map[string]pod{
		"silver.build.orders":       {cpu: "1", memory: "2Gi", retries: 2, timeout: DefaultExecutionTimeout},
		"publish.silver.orders":     {cpu: "1", memory: "1Gi", retries: 2, timeout: DefaultExecutionTimeout},
		"bronze.validate.orders":    {cpu: "1", memory: "1Gi", retries: 0, timeout: DefaultExecutionTimeout},
		"dims.snapshot.customers":   {cpu: "1", memory: "1Gi", retries: 2, timeout: DefaultExecutionTimeout},
		"silver.validate.customers": {cpu: "1", memory: "2Gi", retries: 0, timeout: DefaultExecutionTimeout},
	} {
		n, _ := shop.Graph().Node(task)
		if got := st.pod(n); got != want {
			t.Errorf("shop %s: %+v, want %+v", task, got, want)
		}
	}
	if got := st.pod(spec.Node{ID: "enriched.build.x", Task: spec.TaskEnrichedBuild, Layer: spec.LayerEnriched, Table: "x"}); got.memory != "6Gi" {
		t.Errorf("enriched default memory %s, want 6Gi", got.memory)
	}
}

func TestCompareApply(t *testing.T) {
	dir := t.TempDir()
	marker := Marker("mini", FlavorK8s)
	files := map[string][]byte{
		"a.py": []byte(marker + "\nA = 1\n"),
		"b.py": []byte(marker + "\nB = 1\n"),
	}
	// Not ours: a hand-written DAG, another pipeline's and another flavor's files.
	others := map[string]string{
		"hand.py":        "from airflow.sdk import DAG\n",
		"other.py":       Marker("other", FlavorK8s) + "\n",
		"mini_local.py":  Marker("mini", FlavorLocal) + "\n",
		"notes.txt":      marker + "\n",
		"mini_stale.py":  marker + "\nOLD = 1\n",
		"empty.py":       "",
		"a_modified.txt": "x",
		// What importing the files leaves (any python run over the folder): never ours.
		"__pycache__/mini_stale.cpython-311.pyc": marker + "\n",
		"__pycache__/a.cpython-311.pyc":          "\x00",
		"a.pyc":                                  marker + "\n",
	}
	for n, c := range others {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	changes, err := Compare(dir, files, marker)
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(changes); got != "a.py:missing b.py:missing mini_stale.py:stale" {
		t.Fatalf("changes %s", got)
	}
	if err := Apply(dir, files, changes); err != nil {
		t.Fatal(err)
	}
	if changes, _ = Compare(dir, files, marker); len(changes) != 0 {
		t.Fatalf("after Apply: %s", kinds(changes))
	}
	for n := range others {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(n)))
		if gone := errors.Is(err, os.ErrNotExist); gone != (n == "mini_stale.py") {
			t.Errorf("%s: removed = %v", n, gone)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "b.py"), []byte(marker+"\nB = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changes, _ = Compare(dir, files, marker)
	if got := kinds(changes); got != "b.py:differs" {
		t.Fatalf("changes %s", got)
	}
	if d := string(changes[0].Diff); !strings.Contains(d, "-B = 2\n+B = 1\n") {
		t.Errorf("diff:\n%s", d)
	}
	// A folder that does not exist yet holds nothing.
	changes, err = Compare(filepath.Join(dir, "new"), files, marker)
	if err != nil || kinds(changes) != "a.py:missing b.py:missing" {
		t.Errorf("new folder: %s %v", kinds(changes), err)
	}
}

func kinds(cs []Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name+":"+string(c.Kind))
	}
	return strings.Join(out, " ")
}

func TestPython(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:        `"plain"`,
		`say "hi"`:     `'say "hi"'`,
		`it's "x"`:     `"it's \"x\""`,
		"a\\b\n\x01":   `"a\\b\n\x01"`,
		`{{ run_id }}`: `"{{ run_id }}"`,
	} {
		if got := pyStr(in); got != want {
			t.Errorf("pyStr(%q) = %s, want %s", in, got, want)
		}
	}
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
	if got := comment("one two three", 4); got != "    # one two three" {
		t.Errorf("comment = %q", got)
	}
}

// TestIncrementalBuildDependsOnPast: the build of an incremental transform (partition
// D reads D-1) waits for its previous run; no other task does.
func TestIncrementalBuildDependsOnPast(t *testing.T) {
	s, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{}, localOptions} {
		for name, py := range generate(t, s, o) {
			blocks := strings.Split(string(py), "task_id=")
			for _, b := range blocks[1:] {
				id, _, _ := strings.Cut(strings.Trim(b, `"`), `"`)
				has := strings.Contains(b, "depends_on_past=True")
				want := false
				for _, tr := range s.Enriched.Transforms {
					want = want || tr.Incremental && id == "enriched__build__"+tr.Name
				}
				if has != want {
					t.Errorf("%s (%s): task %s has depends_on_past=True: %v, want %v", name, o.Flavor, id, has, want)
				}
			}
		}
	}
	if tr, _ := s.Transform("customer_ltv"); tr == nil || !tr.Incremental {
		t.Fatal("the reference customer_ltv is not incremental: the test checks nothing")
	}
}
