package dagsgen

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/spec"
)

// Modes of deploy.mode.
const (
	ModeEndToEnd = "end_to_end"
	ModeLayered  = "layered"
)

// Defaults of the deploy settings.
const (
	DefaultBronzeWait = "2h"
	DefaultRetries    = 2
	DefaultRetryDelay = 5 * time.Minute
	// DefaultExecutionTimeout bounds one try of a task: far above a daily
	// partition's minutes, so only a hung task meets it.
	DefaultExecutionTimeout = 2 * time.Hour
	DefaultStartDate        = "2020-01-01"
	DefaultCPU              = "1"
)

// defaultMemory is a task's memory by task kind (DESIGN section 7, spec.Kind.Memory).
func defaultMemory(task string) string {
	if k, _ := spec.KindOf(task); k.Memory != "" {
		return k.Memory
	}
	return "1Gi"
}

// isGate reports whether a task kind is a gate: gates never retry, since a failed
// check fails again on the same data.
func isGate(task string) bool {
	k, _ := spec.KindOf(task)
	return k.Gate
}

// skipsOnNothing reports whether a task kind exits 4 when there is nothing to do
// (a late bronze partition, fresh dims), which Airflow turns into a skip.
func skipsOnNothing(task string) bool {
	k, _ := spec.KindOf(task)
	return k.SkipsOnNothing
}

// settings are the spec's deploy values with defaults applied and checked.
type settings struct {
	mode       string
	gold       bool
	bronzeWait string
	startDate  time.Time
	configMap  string
	env        map[string]string
	resources  spec.Resources
	retries    int
	retryDelay time.Duration
	pool       string
	timeout    time.Duration // execution_timeout
	tables     map[string]spec.TaskDeploy
	schedules  map[string]*string
}

// pod is what one task's pod gets.
type pod struct {
	cpu, memory string
	retries     int
	pool        string
	timeout     time.Duration // execution_timeout
}

var (
	// quantityRE is a Kubernetes resource quantity, as far as a spec needs one.
	quantityRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`)
	// envNameRE is a portable environment variable name.
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// configMapRE is a Kubernetes object name (DNS-1123 subdomain).
	configMapRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
)

// newSettings reads s.Deploy; every problem is reported at once, at its position in
// the spec, as spec.Load does.
func newSettings(s *spec.Spec, flavor string) (*settings, error) {
	d := s.Deploy
	st := &settings{
		mode:       ModeEndToEnd,
		gold:       true,
		bronzeWait: DefaultBronzeWait,
		configMap:  strings.ToLower(strings.ReplaceAll(s.Pipeline, "_", "-")) + "-worker",
		env:        map[string]string{},
		retries:    DefaultRetries,
		retryDelay: DefaultRetryDelay,
		timeout:    DefaultExecutionTimeout,
		pool:       d.Pool,
		tables:     d.Tables,
		schedules:  d.Schedules,
	}
	var errs spec.Errors
	bad := func(path, format string, args ...any) {
		errs = append(errs, s.ErrorAt(path, format, args...))
	}
	// badKey points at a mapping key rather than its value.
	badKey := func(path, format string, args ...any) {
		p := s.KeyPos(path)
		errs = append(errs, &spec.Error{File: s.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
	}
	switch d.Mode {
	case "":
	case ModeEndToEnd, ModeLayered:
		st.mode = d.Mode
	default:
		bad("deploy.mode", "deploy.mode %q: use %s or %s", d.Mode, ModeEndToEnd, ModeLayered)
	}
	if d.Gold != nil {
		st.gold = *d.Gold
	}
	if d.BronzeWait != "" {
		if w, err := time.ParseDuration(d.BronzeWait); err != nil || w < 0 {
			bad("deploy.bronze_wait", "deploy.bronze_wait %q: want a duration such as 2h or 90m", d.BronzeWait)
		}
		st.bronzeWait = d.BronzeWait
	}
	start := DefaultStartDate
	if d.StartDate != "" {
		start = d.StartDate
	}
	t, err := time.Parse(time.DateOnly, start)
	if err != nil {
		bad("deploy.start_date", "deploy.start_date %q: want a date, YYYY-MM-DD", d.StartDate)
	}
	st.startDate = t
	if d.ConfigMap != nil {
		st.configMap = *d.ConfigMap
		if st.configMap != "" && !configMapRE.MatchString(st.configMap) {
			bad("deploy.config_map", "deploy.config_map %q: not a Kubernetes object name (lowercase letters, digits, - and .)", st.configMap)
		}
	}
	for _, k := range sortedKeys(d.Env) {
		if !envNameRE.MatchString(k) {
			badKey("deploy.env."+k, "deploy.env: %q is not an environment variable name", k)
		}
		st.env[k] = d.Env[k]
	}
	if d.Resources != nil {
		checkResources(bad, "deploy.resources", *d.Resources)
		st.resources = *d.Resources
	}
	if d.Retries != nil {
		if *d.Retries < 0 {
			bad("deploy.retries", "deploy.retries must not be negative")
		}
		st.retries = *d.Retries
	}
	if d.RetryDelay != "" {
		rd, err := time.ParseDuration(d.RetryDelay)
		if err != nil || rd < 0 {
			bad("deploy.retry_delay", "deploy.retry_delay %q: want a duration such as 5m", d.RetryDelay)
		}
		st.retryDelay = rd
	}
	if d.ExecutionTimeout != "" {
		if et, ok := executionTimeout(bad, "deploy.execution_timeout", d.ExecutionTimeout); ok {
			st.timeout = et
		}
	}
	names := tableNames(s)
	for _, k := range sortedKeys(d.Tables) {
		p := "deploy.tables." + k
		if !names[k] {
			badKey(p, "deploy.tables: %q is not a table, dim, transform or mart of the spec", k)
		}
		td := d.Tables[k]
		if td.Resources != nil {
			checkResources(bad, p+".resources", *td.Resources)
		}
		if td.Retries != nil && *td.Retries < 0 {
			bad(p+".retries", "deploy.tables.%s.retries must not be negative", k)
		}
		if td.ExecutionTimeout != "" {
			executionTimeout(bad, p+".execution_timeout", td.ExecutionTimeout)
		}
	}
	for _, l := range sortedKeys(d.Schedules) {
		if c := d.Schedules[l]; c != nil && *c != "" && !looksLikeCron(*c) {
			bad("deploy.schedules."+l, "deploy.schedules.%s %q: want a cron expression such as \"0 2 * * *\" or null", l, *c)
		}
	}
	if s.Schedule != "" && !looksLikeCron(s.Schedule) {
		bad("schedule", "schedule %q: want a cron expression such as \"0 3 * * *\"", s.Schedule)
	}
	if flavor == FlavorK8s && d.Image == "" {
		badKey("deploy", "deploy.image is required to generate Kubernetes DAGs: the worker's container image")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return st, nil
}

// executionTimeout parses an execution_timeout: a positive Go duration of whole seconds.
func executionTimeout(bad func(string, string, ...any), path, v string) (time.Duration, bool) {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute || d%time.Second != 0 {
		bad(path, "%s %q: want a duration of at least a minute, such as 2h or 90m", path, v)
		return 0, false
	}
	return d, true
}

func checkResources(bad func(string, string, ...any), path string, r spec.Resources) {
	if r.CPU != "" && !quantityRE.MatchString(r.CPU) {
		bad(path+".cpu", "%s.cpu %q: want a Kubernetes quantity such as 500m or 2", path, r.CPU)
	}
	if r.Memory != "" && !quantityRE.MatchString(r.Memory) {
		bad(path+".memory", "%s.memory %q: want a Kubernetes quantity such as 512Mi or 2Gi", path, r.Memory)
	}
}

// looksLikeCron accepts five or six fields or an @preset; Airflow checks the rest
// when it parses the DAG (the DAG tests load every generated file).
func looksLikeCron(c string) bool {
	if strings.HasPrefix(c, "@") {
		return len(strings.Fields(c)) == 1
	}
	n := len(strings.Fields(c))
	return n == 5 || n == 6
}

// tableNames are the names deploy.tables may use.
func tableNames(s *spec.Spec) map[string]bool {
	out := map[string]bool{}
	for _, t := range s.Bronze.Tables {
		out[t.Name] = true
	}
	for _, t := range s.BaseSilver.Tables {
		out[t.Name] = true
	}
	for _, d := range s.Dims {
		out[d.Name] = true
	}
	for _, t := range s.Enriched.Transforms {
		out[t.Name] = true
	}
	for _, m := range s.Marts() {
		out[m.Name] = true
	}
	return out
}

// tableOf is the name deploy.tables matches for a node: its table, dim, transform
// or mart; for gold.load, the loaded table ("orders" of "silver.orders").
func tableOf(n spec.Node) string {
	if n.Task == spec.TaskGoldLoad {
		if _, name, ok := strings.Cut(n.Table, "."); ok {
			return name
		}
	}
	return n.Table
}

// pod resolves a task's pod settings: built-in defaults, then deploy, then
// deploy.tables; gates never retry, whatever the spec says.
func (st *settings) pod(n spec.Node) pod {
	p := pod{cpu: DefaultCPU, memory: defaultMemory(n.Task), retries: st.retries, pool: st.pool, timeout: st.timeout}
	over := func(r *spec.Resources) {
		if r == nil {
			return
		}
		if r.CPU != "" {
			p.cpu = r.CPU
		}
		if r.Memory != "" {
			p.memory = r.Memory
		}
	}
	over(&st.resources)
	if td, ok := st.tables[tableOf(n)]; ok {
		over(td.Resources)
		if td.Retries != nil {
			p.retries = *td.Retries
		}
		if td.Pool != "" {
			p.pool = td.Pool
		}
		if d, err := time.ParseDuration(td.ExecutionTimeout); err == nil && td.ExecutionTimeout != "" {
			p.timeout = d
		}
	}
	if isGate(n.Task) {
		p.retries = 0
	}
	return p
}

// schedule returns the cron of a layer DAG from deploy.schedules ("" when null or
// absent).
func (st *settings) schedule(layer string) string {
	if c := st.schedules[layer]; c != nil {
		return *c
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// errorf builds a plain error with the package's prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("dags: "+format, args...)
}

// taskTimeout is a task's execution_timeout: its pod's, plus bronze_wait for a
// kind that polls that long for a late partition before it starts.
func (st *settings) taskTimeout(n spec.Node, p pod) time.Duration {
	if n.Task == spec.TaskBronzeValidate {
		if w, err := time.ParseDuration(st.bronzeWait); err == nil {
			return p.timeout + w
		}
	}
	return p.timeout
}
