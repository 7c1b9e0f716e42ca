package spec

// Task kinds, as Node.Task and the audit records name them. The graph schedules
// the first nine; the others run only from their own worker command.
const (
	TaskBronzeValidate   = "bronze.validate"
	TaskSilverBuild      = "silver.build"
	TaskSilverValidate   = "silver.validate"
	TaskPublish          = "publish"
	TaskDimsSnapshot     = "dims.snapshot"
	TaskEnrichedBuild    = "enriched.build"
	TaskEnrichedValidate = "enriched.validate"
	TaskGoldLoad         = "gold.load"
	TaskGoldBuild        = "gold.build"

	TaskBronzeImport = "bronze.import"
	TaskGoldAudit    = "gold.audit"
	TaskRollback     = "rollback"
	TaskGC           = "gc"
)

// Kind is what every part of the worker knows about one task kind: the graph
// builds nodes of it, dagsgen renders its pod, `worker run` looks up its runner
// (tasks/pipeline) by Name, and publish finds the gate it requires here.
type Kind struct {
	Name string
	// Layer is the layer the kind works on; "" when it varies (a publish node
	// carries the published layer, rollback takes --layer) or is none (gc).
	Layer string
	// Scheduled kinds are nodes of the task graph, so DAG tasks and `worker run`
	// steps; the others are run by hand.
	Scheduled bool
	// Command is the worker subcommand, TableFlag the flag naming the node's table.
	Command   []string
	TableFlag string
	// Extra are the arguments after --partition in a DAG task (bronze: --wait).
	Extra func(o PodArgs) []string
	// Gate kinds check and never retry: a failed check fails again on the same data.
	Gate bool
	// GatesPublish marks the kind whose passed report `worker publish --layer
	// <Layer>` requires.
	GatesPublish bool
	// SkipsOnNothing kinds exit 4 when there is nothing to do (a late bronze
	// partition, a fresh dim), which Airflow turns into a skip.
	SkipsOnNothing bool
	// Asset kinds emit an Airflow asset when they succeed: the validated bronze
	// partition, the committed partition, the mart.
	Asset bool
	// Memory is the pod's default memory (DESIGN section 7): base silver and
	// enriched transforms hold a partition in DuckDB; everything else streams.
	Memory string
	// Does says in one line what a node of the kind does (the comment above its
	// DAG task); Reads and Writes name the lake paths it touches (DESIGN section 3)
	// besides the audit every kind writes under _audit/.
	Does, Reads, Writes string
}

// PodArgs are the deploy values a DAG task's worker arguments depend on.
type PodArgs struct {
	// Partition is the partition argument as the caller spells it (a template).
	Partition string
	// BronzeWait is how long a bronze gate polls for a late manifest.
	BronzeWait string
}

// Args is the worker command line of a node of the kind, after the global flags
// (DESIGN section 5); nil for a kind the graph does not schedule.
func (k Kind) Args(n Node, o PodArgs) []string {
	if !k.Scheduled {
		return nil
	}
	args := append([]string(nil), k.Command...)
	if n.Task == TaskPublish {
		args = append(args, "--layer", n.Layer)
	}
	args = append(args, k.TableFlag, n.Table, "--partition", o.Partition)
	if k.Extra != nil {
		args = append(args, k.Extra(o)...)
	}
	return args
}

// kinds is the one table of task kinds, in run order.
var kinds = []Kind{
	{Name: TaskBronzeImport, Layer: LayerBronze, Command: []string{"bronze", "import"}, TableFlag: "--table",
		Does:  "turn files into a bronze partition with its manifest",
		Reads: "the given files", Writes: "bronze/<table>/<pk>=<D>/"},
	{Name: TaskBronzeValidate, Layer: LayerBronze, Scheduled: true, Command: []string{"bronze", "validate"}, TableFlag: "--table",
		Extra: func(o PodArgs) []string { return []string{"--wait", o.BronzeWait} },
		Gate:  true, SkipsOnNothing: true, Asset: true, Memory: "1Gi",
		Does:  "gate: manifest, files, schema; exit 4 (still missing after --wait) skips what follows",
		Reads: "bronze/<table>/<pk>=<D>/", Writes: "_reports/"},
	{Name: TaskSilverBuild, Layer: LayerSilver, Scheduled: true, Command: []string{"silver", "build"}, TableFlag: "--table",
		Memory: "2Gi",
		Does:   "cast, clean, dedup, check; stage silver and quarantine",
		Reads:  "bronze/<source>/<pk>=<D>/, committed silver of FK parents (and this run's staged ones whose verdict passed)", Writes: "_staging/<run>/silver/, _staging/<run>/quarantine/"},
	{Name: TaskSilverValidate, Layer: LayerSilver, Scheduled: true, Command: []string{"silver", "validate"}, TableFlag: "--table",
		Gate: true, GatesPublish: true, Memory: "2Gi",
		Does:  "gate: conservation, PK/FK integrity, quarantine rate, row loss",
		Reads: "_staging/<run>/silver/, _staging/<run>/quarantine/", Writes: "_staging/<run>/silver/<table>/<pk>=<D>/_VERDICT.json, _reports/"},
	{Name: TaskPublish, Scheduled: true, Command: []string{"publish"}, TableFlag: "--table",
		Asset: true, Memory: "1Gi",
		Does:  "commit the partition this run staged",
		Reads: "_staging/<run>/<layer>/, the gate's _VERDICT.json there", Writes: "<layer>/<table>/<pk>=<D>/_MANIFEST.json, <layer>/<table>/_latest.json"},
	{Name: TaskDimsSnapshot, Layer: LayerDims, Scheduled: true, Command: []string{"dims", "snapshot"}, TableFlag: "--dim",
		Extra:        func(PodArgs) []string { return []string{"--if-stale"} },
		GatesPublish: true, SkipsOnNothing: true, Memory: "1Gi",
		Does:  "snapshot if older than max_age; exit 4 (fresh) skips the publish",
		Reads: "committed silver/<source>/", Writes: "_staging/<run>/dims/ (with its _VERDICT.json), _reports/"},
	{Name: TaskEnrichedBuild, Layer: LayerEnriched, Scheduled: true, Command: []string{"enriched", "build"}, TableFlag: "--transform",
		Memory: "6Gi",
		Does:   "run the transform's SQL; stage its partition",
		Reads:  "committed silver/, dims/, enriched/ (depends_on)", Writes: "_staging/<run>/enriched/"},
	{Name: TaskEnrichedValidate, Layer: LayerEnriched, Scheduled: true, Command: []string{"enriched", "validate"}, TableFlag: "--transform",
		Gate: true, GatesPublish: true, Memory: "6Gi",
		Does:  "gate: min rows, not-null columns, rules",
		Reads: "_staging/<run>/enriched/", Writes: "_staging/<run>/enriched/<transform>/<pk>=<D>/_VERDICT.json, _reports/"},
	{Name: TaskGoldLoad, Layer: LayerGold, Scheduled: true, Command: []string{"gold", "load"}, TableFlag: "--table",
		Memory: "1Gi",
		Does:   "load the published partition into the warehouse",
		Reads:  "committed silver/, enriched/ or dims/ partition", Writes: "warehouse <layer>.<table>"},
	{Name: TaskGoldBuild, Layer: LayerGold, Scheduled: true, Command: []string{"gold", "build"}, TableFlag: "--mart",
		Asset: true, Memory: "1Gi",
		Does:  "build the mart's partition",
		Reads: "warehouse tables (depends_on)", Writes: "warehouse gold.<mart>"},
	{Name: TaskGoldAudit, Layer: LayerGold, Command: []string{"gold", "audit"},
		Does:  "load the partition's audits and reports into the warehouse",
		Reads: "_audit/, _reports/", Writes: "warehouse ops.ops_task_audit"},
	{Name: TaskRollback, Command: []string{"rollback"}, TableFlag: "--table",
		Does:  "point a committed partition back at an earlier committed run",
		Reads: "<layer>/<table>/<pk>=<D>/run=<run>/", Writes: "<layer>/<table>/<pk>=<D>/_MANIFEST.json"},
	{Name: TaskGC, Command: []string{"gc"},
		Does:  "remove run folders no commit point references and old _staging leftovers",
		Reads: "every commit point", Writes: "removes unreferenced run=<run>/ and _staging/ folders"},
}

// Kinds returns every task kind, in run order.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// KindOf returns the kind of a task name.
func KindOf(name string) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// PublishAuditTask is the task name a publish's audit records, per layer
// ("publish.silver"): a dim is often named as its silver source, and the two
// publishes must not share an audit file.
func PublishAuditTask(layer string) string { return TaskPublish + "." + layer }

// PublishGate returns the kind whose passed report publishing a layer requires.
func PublishGate(layer string) (Kind, bool) {
	for _, k := range kinds {
		if k.GatesPublish && k.Layer == layer {
			return k, true
		}
	}
	return Kind{}, false
}
