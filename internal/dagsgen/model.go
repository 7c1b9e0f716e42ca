package dagsgen

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/shoplake/lakehouse/internal/spec"
)

// file is what the template lays out for one DAG file. Every value is final Python
// source or comment text; the template holds no logic beyond loops.
type file struct {
	Marker     string
	Title      string // "DAG <id>: <summary>."
	SpecFile   string
	SpecSHA256 string
	Pipeline   string
	Regenerate string
	Notes      string // comment text for the header
	K8s        bool   // adds the resources() helper
	Imports    []string
	DagArgs    []kwarg
	Groups     []taskGroup
	Edges      []string
}

type taskGroup struct {
	Call  string // TaskGroup(...)
	Tasks []task
}

type task struct {
	Var      string
	Comment  string
	Operator string
	Args     []kwarg
}

// Indents of the generated code: DAG arguments, then task arguments inside
// `with DAG`, `with TaskGroup` and the operator call.
const (
	dagArgIndent  = 4
	taskArgIndent = 12
)

func newFile(s *spec.Spec, st *settings, g *spec.Graph, o Options, p dagPlan) (*file, error) {
	k8s := o.Flavor == FlavorK8s
	f := &file{
		Marker:     Marker(s.Pipeline, o.Flavor),
		Title:      "DAG " + p.id + ": " + p.summary + ".",
		SpecFile:   cleanPath(s.File),
		SpecSHA256: s.SHA256,
		Pipeline:   pyStr(s.Pipeline),
		K8s:        k8s,
		Notes:      notes(st, o, p),
	}
	f.Regenerate = "worker --specs " + cleanPath(s.Dir) + " dags generate --out DIR"
	if !k8s {
		f.Regenerate = "worker --specs " + cleanPath(s.Dir) + " --lake LAKE dags generate --flavor local --out DIR"
	}

	operator := "KubernetesPodOperator"
	f.Imports = []string{"import datetime", "import re", ""}
	if k8s {
		f.Imports = append(f.Imports, "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator")
	} else {
		operator = "BashOperator"
		f.Imports = append(f.Imports, "from airflow.providers.standard.operators.bash import BashOperator")
	}
	f.Imports = append(f.Imports, "from airflow.sdk import DAG, Asset, Param, TaskGroup")
	if p.cron != "" {
		f.Imports = append(f.Imports, "from airflow.timetables.interval import CronDataIntervalTimetable")
	}
	if k8s {
		f.Imports = append(f.Imports, "from kubernetes.client import models as k8s")
	}

	f.DagArgs = dagArgs(s, st, o, p)
	for _, ns := range groups(p.nodes) {
		l := ns[0].Layer
		tg := taskGroup{Call: seq("TaskGroup(", ")", []string{
			"group_id=" + pyStr(l), "prefix_group_id=False", "tooltip=" + pyStr(groupTooltip[l]),
		}, dagArgIndent+len("with "), dagArgIndent)}
		for _, n := range ns {
			t, err := newTask(s, st, o, n, operator)
			if err != nil {
				return nil, err
			}
			tg.Tasks = append(tg.Tasks, t)
		}
		f.Groups = append(f.Groups, tg)
	}
	for _, e := range edgesWithin(g, p.nodes) {
		from := taskID(e[0])
		tos := make([]string, len(e)-1)
		for i, to := range e[1:] {
			tos[i] = taskID(to)
		}
		if len(tos) == 1 {
			f.Edges = append(f.Edges, from+" >> "+tos[0])
			continue
		}
		lead := from + " >> "
		f.Edges = append(f.Edges, lead+seq("[", "]", tos, dagArgIndent+len(lead), dagArgIndent))
	}
	return f, nil
}

var groupTooltip = map[string]string{
	spec.LayerBronze:   "bronze gates: is the partition there and well-formed?",
	spec.LayerSilver:   "base silver: build, gate, publish",
	spec.LayerDims:     "dim snapshots: refresh when stale, publish",
	spec.LayerEnriched: "enriched transforms: build, gate, publish",
	spec.LayerGold:     "gold: load published partitions, build marts",
}

// cleanPath shows a spec path the same way however it was given (./specs/shop/).
func cleanPath(p string) string {
	if p == "" {
		return p
	}
	return path.Clean(filepath.ToSlash(p))
}

// notes is the header's explanation of the schedule and the flavor, one paragraph
// a line (comment wraps them).
func notes(st *settings, o Options, p dagPlan) string {
	var b strings.Builder
	switch {
	case p.cron != "":
		fmt.Fprintf(&b, "Schedule: cron %q in UTC, from %s, over data intervals: a run processes "+
			"the interval that just ended, so a daily run processes the day before it.\n", p.cron, p.scheduleWhy)
	case len(p.assets) > 0:
		fmt.Fprintf(&b, "Schedule: %s: a run starts once every asset of the schedule has a new "+
			"event, and processes the partition the events carry.\n", p.scheduleWhy)
	default:
		b.WriteString("Schedule: none (the spec has no schedule): trigger runs by hand.\n")
	}
	if st.mode == ModeEndToEnd && p.nodes[0].Layer != spec.LayerDims {
		b.WriteString("Dims are refreshed by their own DAG; enriched and gold read the latest " +
			"snapshot on or before their partition.\n")
	}
	if o.Flavor == FlavorLocal {
		b.WriteString("Local flavor: each task runs the worker binary (param \"worker\") on the " +
			"Airflow machine over the \"lake\" param; no pods, no retries.\n")
	}
	return b.String()
}

func dagArgs(s *spec.Spec, st *settings, o Options, p dagPlan) []kwarg {
	k := &kwargs{indent: dagArgIndent}
	k.add("dag_id", pyStr(p.id))
	k.add("description", pyStr(p.summary))
	switch {
	case p.cron != "":
		k.add("schedule", "CronDataIntervalTimetable("+pyStr(p.cron)+", timezone=\"UTC\")")
	case len(p.assets) > 0:
		items := make([]string, len(p.assets))
		for i, a := range p.assets {
			items[i] = "Asset(" + pyStr(a) + ")"
		}
		k.seq("schedule", "[", "]", items)
	default:
		k.add("schedule", "None")
	}
	t := st.startDate
	k.add("start_date", fmt.Sprintf("datetime.datetime(%d, %d, %d, tzinfo=datetime.timezone.utc)", t.Year(), t.Month(), t.Day()))
	k.add("catchup", "False")
	// One run at a time: a partition's silver reads earlier partitions of its FK
	// parents, so partitions go in order.
	k.add("max_active_runs", "1")

	params := []string{pyStr("partition") + ": " + seq("Param(", ")", []string{
		"None",
		`type=["null", "string"]`,
		`format="date"`,
		`description="YYYY-MM-DD; empty: from the triggering assets or the data interval"`,
	}, dagArgIndent+4+len(`"partition": `), dagArgIndent+4)}
	if o.Flavor == FlavorLocal {
		params = append(params,
			pyStr("worker")+": Param("+pyStr(o.Worker)+`, type="string", description="The worker binary")`,
			pyStr("lake")+": Param("+pyStr(o.Lake)+`, type="string", description="The lake folder")`)
		if o.Specs != "" {
			params = append(params, pyStr("specs")+": Param("+pyStr(o.Specs)+`, type="string", description="The spec folder")`)
		}
	}
	k.seq("params", "{", "}", params)
	k.add("user_defined_macros", `{"lake_partition": lake_partition}`)

	ind := dagArgIndent + 4 // of the default_args items
	var defaults []string
	item := func(key, value string) { defaults = append(defaults, pyStr(key)+": "+value) }
	if o.Flavor == FlavorK8s {
		item("retries", fmt.Sprint(st.retries))
		item("retry_delay", pyTimedelta(st.retryDelay))
		item("execution_timeout", pyTimedelta(st.timeout))
		if st.pool != "" {
			item("pool", pyStr(st.pool))
		}
		item("image", pyStr(s.Deploy.Image))
		item("cmds", `["worker"]`)
		if s.Deploy.Namespace != "" {
			item("namespace", pyStr(s.Deploy.Namespace))
		}
		if s.Deploy.ServiceAccount != "" {
			item("service_account_name", pyStr(s.Deploy.ServiceAccount))
		}
		env := map[string]string{"WORKER_XCOM": "1"}
		for k, v := range st.env {
			env[k] = v
		}
		keys := sortedKeys(env)
		item("env_vars", seq("{", "}", pyDict(keys, func(k string) string { return pyStr(env[k]) }),
			ind+len(`"env_vars": `), ind))
		if st.configMap != "" {
			item("env_from", seq("[", "]", []string{
				"k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name=" + pyStr(st.configMap) + "))",
			}, ind+len(`"env_from": `), ind))
		}
		item("get_logs", "True")
		item("do_xcom_push", "True")
		item("on_finish_action", pyStr("delete_succeeded_pod"))
	} else {
		// Local runs are for laptops and CI: fail fast, and no pools to configure.
		item("retries", "0")
		item("execution_timeout", pyTimedelta(st.timeout))
		item("skip_on_exit_code", "None")
		item("append_env", "True")
		env := []string{
			`"WORKER": "{{ params.worker }}"`,
			`"WORKER_LAKE": "{{ params.lake }}"`,
		}
		if o.Specs != "" {
			env = append(env, `"WORKER_SPECS": "{{ params.specs }}"`)
		}
		env = append(env, `"WORKER_RUN_ID": "{{ run_id }}"`, `"PARTITION": PARTITION`)
		item("env", seq("{", "}", env, ind+len(`"env": `), ind))
	}
	k.seq("default_args", "{", "}", defaults)
	k.add("tags", seq("[", "]", pyStrs([]string{"lakehouse", s.Pipeline}), 0, dagArgIndent))
	return k.list
}

func newTask(s *spec.Spec, st *settings, o Options, n spec.Node, operator string) (task, error) {
	args := workerArgs(n, st)
	if args == nil {
		return task{}, errorf("node %s: no worker command for task kind %q", n.ID, n.Task)
	}
	uri := assetURI(s, o, n)
	t := task{Var: taskID(n.ID), Comment: comment(n.ID+": "+what(n, uri), taskArgIndent-4), Operator: operator}
	k := &kwargs{indent: taskArgIndent}
	k.add("task_id", pyStr(taskID(n.ID)))
	pd := st.pod(n)
	if o.Flavor == FlavorK8s {
		items := append([]string{pyStr("--run-id"), pyStr("{{ run_id }}")}, pyArgs(args)...)
		k.fill("arguments", "[", "]", items)
		k.add("container_resources", "resources(cpu="+pyStr(pd.cpu)+", memory="+pyStr(pd.memory)+")")
		if isGate(n.Task) || pd.retries != st.retries {
			k.add("retries", fmt.Sprint(pd.retries))
		}
		if pd.pool != st.pool {
			k.add("pool", pyStr(pd.pool))
		}
	} else {
		words := []string{`"$WORKER"`}
		for _, a := range args {
			if a == partitionArg {
				words = append(words, `"$PARTITION"`)
				continue
			}
			words = append(words, shellQuote(a))
		}
		k.add("bash_command", pyLongStr(strings.Join(words, " "), k.col("bash_command"), taskArgIndent))
	}
	if to := st.taskTimeout(n, pd); to != st.timeout {
		k.add("execution_timeout", pyTimedelta(to))
	}
	if skipsOnNothing(n.Task) {
		k.add("skip_on_exit_code", "[4]")
	}
	if t, ok := s.Transform(n.Table); ok && t.Incremental && n.Task == spec.TaskEnrichedBuild {
		// Partition D builds on D-1: runs (one at a time, max_active_runs=1) go in order
		// and stop at a failed day instead of building on a gap.
		k.add("depends_on_past", "True")
	}
	if uri != "" {
		k.add("outlets", "[Asset("+pyStr(uri)+")]")
		k.add("post_execute", "emit_partition")
	}
	t.Args = k.list
	return t, nil
}

// pyArgs renders worker arguments, the partition as the PARTITION template.
func pyArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == partitionArg {
			out[i] = "PARTITION"
			continue
		}
		out[i] = pyStr(a)
	}
	return out
}
