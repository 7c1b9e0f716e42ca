package spec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/shoplake/lakehouse/internal/sqltext"
)

// Patterns the schema shares with the loader's checks (the loader is the authority;
// the schema lets an editor flag mistakes while typing).
const (
	identPattern = `^[A-Za-z_][A-Za-z0-9_]{0,63}$`
	identBody    = `[A-Za-z_][A-Za-z0-9_]{0,63}`
	// lookbackPattern is ParseLookback's syntax (its day limit is the loader's).
	lookbackPattern = `^[0-9]+[dw]$`
)

// schemaDocs are the descriptions an editor shows, by "Type.field".
var schemaDocs = map[string]string{
	"Spec.pipeline":                  "Name of the pipeline (an identifier).",
	"Spec.schedule":                  "Cron schedule of the whole pipeline, e.g. \"0 3 * * *\".",
	"Spec.bronze":                    "The raw layer written by upstream extracts.",
	"Spec.base_silver":               "Typed, cleaned, checked tables built from bronze.",
	"Spec.dims":                      "Dimension snapshots of base-silver tables.",
	"Spec.enriched":                  "SQL transforms over silver and dims.",
	"Spec.gold":                      "Warehouse marts built by SQL.",
	"Spec.deploy":                    "Settings of the generated Airflow DAGs.",
	"Bronze.tables":                  "The bronze tables and their columns.",
	"BaseSilver.tables":              "The base-silver tables.",
	"Enriched.transforms":            "The enriched SQL transforms.",
	"Bronze.partition_key":           "Partition folder key of bronze tables (default ingest_dt).",
	"BronzeTable.name":               "Table name (an identifier).",
	"BronzeTable.columns":            "The columns the table's files must carry.",
	"Bronze.null_values":             "Raw values that mean missing in every bronze table (default [\"\"]); a table's own null_values replaces the list. Compared after trimming, case-sensitively; silver turns them into NULL in text bronze columns before casts, exprs and rules, and bronze import before casting to a typed bronze column.",
	"BronzeTable.allow_empty":        "A partition of this table may hold no rows (default false: the bronze gate fails an empty partition, since an extract that delivered nothing is usually broken; set it for tables with quiet days).",
	"BronzeTable.null_values":        "Raw values that mean missing in this table, replacing bronze.null_values; [] means none at all, not even \"\". Compared after trimming, case-sensitively; not applied to bronze columns that are not text (their values are no longer raw text).",
	"BronzeTable.csv":                "Dialect of the table's CSV files; without it the dialect is detected per file. Keys left out take the defaults below.",
	"CSV.delimiter":                  "Field delimiter, one ASCII character (default \",\"; \"\\t\" for tab).",
	"CSV.quote":                      "Quote character, one ASCII character or \"\" for none (default \"\\\"\").",
	"CSV.escape":                     "Character that escapes a quote inside a quoted field, or \"\" for none (default: the quote, so \"\" inside quotes is one \").",
	"CSV.header":                     "The first row (after skip_rows) names the columns (default true); false maps the fields to the bronze columns by position.",
	"CSV.skip_rows":                  "Lines skipped at the top of the file, before the header (default 0).",
	"CSV.encoding":                   "File encoding: utf-8 (default), latin-1 or utf-16 (little-endian, with or without a BOM).",
	"Column.name":                    "Column name (an identifier).",
	"Column.type":                    "DuckDB type: VARCHAR, BIGINT, DOUBLE, DECIMAL(p,s), BOOLEAN, DATE, TIMESTAMP, ...",
	"Column.expr":                    "Silver only: one SQL expression over the bronze columns computing this column (default: cast the same-named bronze column).",
	"Column.not_null":                "Silver only: rows where the column is NULL go to quarantine (not_null:<column>).",
	"Column.accepted_values":         "Silver only: the values the column may take; others go to quarantine.",
	"Column.check":                   "Silver only: one SQL boolean expression every row must satisfy (check:<column>).",
	"Column.description":             "Free text.",
	"SilverTable.name":               "Table name (an identifier).",
	"SilverTable.source":             "The bronze table it is built from.",
	"SilverTable.partition_key":      "Partition key (default ingestion_dt).",
	"SilverTable.primary_key":        "Columns that identify a row within a partition.",
	"SilverTable.dedup":              "Which row of a duplicated primary key survives; without it every duplicate is quarantined.",
	"SilverTable.columns":            "The silver columns.",
	"SilverTable.foreign_keys":       "Columns that must exist in another base-silver table.",
	"SilverTable.thresholds":         "Limits the silver gate enforces.",
	"SilverTable.description":        "Free text.",
	"Dedup.order_by":                 "Terms \"column [asc|desc]\"; the first row by this order stays.",
	"Dedup.versions_within":          "The domain's promise that every version of a key lands in a partition at most this many days after the key's first, e.g. 3d (whole days). Incremental transforms read that window to find a changed key's previous version; silver.<table>_latest binds the latest version of every key up to D.",
	"ForeignKey.column":              "The column of this table (one-column key; use columns for a composite key).",
	"ForeignKey.columns":             "The columns of a composite key, in the order of the referenced columns.",
	"ForeignKey.references":          "\"table.column\", or \"table.(x, y)\" for a composite key: another base-silver table's primary key.",
	"ForeignKey.on_orphan":           "What a row whose key is missing from the parent gets: quarantine (default, reason fk_orphan:<columns>) or warn (the row stays in silver; the gate counts and reports it as a warning).",
	"Thresholds.max_quarantine_rate": "Largest accepted rows_quarantined / rows_in, between 0 and 1.",
	"Thresholds.max_row_loss":        "Largest accepted 1 - rows_out / rows_in, between 0 and 1.",
	"Thresholds.min_rows_for_rate":   "Fewest rows a rate is computed over: the gate fails when rows_quarantined / max(rows_in, min_rows_for_rate) exceeds max_quarantine_rate, and likewise rows lost for max_row_loss, so a smaller partition may lose up to rate * min_rows_for_rate rows (one bad row of ten says nothing). Default: no floor.",
	"Dim.name":                       "Dim name (an identifier); SQL reads it as dims.<name> or dims.<name>_history.",
	"Dim.source":                     "The base-silver table it snapshots.",
	"Dim.max_age":                    "How old the latest snapshot may be before a new one is taken: 24h, 90m, 7d.",
	"Transform.name":                 "Transform name (an identifier); SQL reads it as enriched.<name>.",
	"Transform.sql":                  "Path of the SQL file, relative to the spec folder.",
	"Transform.depends_on":           "Every layer-qualified table the SQL reads: a name (silver.orders: every partition up to D) or {table, lookback} to bind only the partitions in [D - lookback, D].",
	"DependsOnEntry.table":           "The layer-qualified name the SQL reads: silver.<table>, dims.<dim>, dims.<dim>_history, enriched.<transform> (marts also gold.<mart>).",
	"DependsOnEntry.lookback":        "Whole days (Nd) or weeks (Nw) before D the SQL reads: only partitions in [D - lookback, D] are bound, downloaded and scanned (0d: partition D only). A promise by the spec author that the SQL needs no older rows; the SQL still filters with {{ partition }}. Not on dims.<dim> (one snapshot) nor gold.<mart>; on dims.<dim>_history it bounds the snapshots. Default: unbounded, a cost that grows with history (worker specs lint warns).",
	"ForeignKey.lookback":            "Whole days (Nd) or weeks (Nw): only the parent's partitions in [D - lookback, D] hold the keys a row of partition D may reference (0d: the parent's partition D). Default: every parent partition up to D, a cost that grows with history (worker specs lint warns).",
	"Transform.partition_key":        "Partition key (default ingestion_dt).",
	"Transform.incremental":          "The SQL reads the transform's own partition D-1 as {{ previous }} (yesterday's state plus today's changes); days build in order, and a missing D-1 while earlier partitions are committed is a data error. Needs columns.",
	"Transform.columns":              "The output columns (name and type; the partition key left out): every build's output must have exactly these, and an incremental transform's first build reads an empty {{ previous }} of them.",
	"Transform.checks":               "The gates of the transform's output.",
	"Transform.description":          "Free text.",
	"Checks.min_rows":                "Fewest rows a partition may have.",
	"Checks.not_null":                "Columns that must never be NULL.",
	"Checks.rules":                   "SQL boolean expressions every row must satisfy.",
	"Gold.facts":                     "Fact marts.",
	"Gold.dims":                      "Dimension marts.",
	"Mart.name":                      "Mart name (an identifier); SQL reads it as gold.<name>.",
	"Mart.sql":                       "Path of the SQL file, relative to the spec folder.",
	"Mart.depends_on":                "Every layer-qualified table the SQL reads: a name or {table, lookback}, as for transforms (in gold the name then reads only the warehouse rows whose partition column lies in the window, and the audit lists only those partitions).",
	"Mart.partition_by":              "Column the warehouse table is partitioned by.",
	"Mart.cluster_by":                "Columns the warehouse table is clustered by.",
	"Mart.scd2":                      "The mart keeps history (valid_from, valid_to, is_current).",
	"Mart.description":               "Free text.",
	"Deploy.image":                   "Container image of the worker.",
	"Deploy.namespace":               "Kubernetes namespace of the task pods.",
	"Deploy.service_account":         "Kubernetes service account of the task pods.",
	"Deploy.schedules":               "Cron schedule per layer DAG; null runs the DAG when its upstream finishes.",
	"Deploy.mode":                    "Which DAGs are generated: end_to_end (default, <pipeline>_silver_to_gold) or layered (one DAG per layer, chained by Assets); <pipeline>_dims_refresh in both.",
	"Deploy.gold":                    "Include the gold load and build tasks (default true); false ends the pipeline at publish.",
	"Deploy.bronze_wait":             "How long a bronze gate waits for a late partition before it skips what depends on it (default 2h).",
	"Deploy.start_date":              "start_date of the DAGs, YYYY-MM-DD (default 2020-01-01).",
	"Deploy.config_map":              "Kubernetes ConfigMap whose keys become the pods' environment, e.g. WORKER_LAKE (default <pipeline>-worker; empty for none).",
	"Deploy.env":                     "Environment variables of every task pod.",
	"Deploy.resources":               "CPU and memory of every task pod, over the defaults (memory: silver 2Gi, enriched 6Gi, others 1Gi; cpu 1).",
	"Deploy.retries":                 "Retries of a task (default 2); gates never retry.",
	"Deploy.retry_delay":             "Wait before a retry, e.g. 5m (the default).",
	"Deploy.pool":                    "Airflow pool of every task.",
	"Deploy.execution_timeout":       "How long one try of a task may run before Airflow kills and retries it, e.g. 2h (the default); bronze gates get bronze_wait on top.",
	"Deploy.tables":                  "Resources, retries, pool and execution_timeout of the tasks of one table, dim, transform or mart, by name.",
	"Resources.cpu":                  "Kubernetes CPU quantity, request and limit: 500m, 2.",
	"Resources.memory":               "Kubernetes memory quantity, request and limit: 512Mi, 2Gi.",
	"TaskDeploy.resources":           "CPU and memory of the table's task pods.",
	"TaskDeploy.retries":             "Retries of the table's tasks (gates never retry).",
	"TaskDeploy.pool":                "Airflow pool of the table's tasks.",
	"TaskDeploy.execution_timeout":   "execution_timeout of the table's tasks, e.g. 4h.",
}

// schemaExtra adds constraints by "Type.field" (for lists: to the items).
func schemaExtra() map[string]map[string]any {
	ident := map[string]any{"pattern": identPattern}
	ref := func(layers string) map[string]any {
		return map[string]any{"pattern": `^(` + layers + `)\.` + identBody + `$`}
	}
	return map[string]map[string]any{
		"Spec.pipeline":                  ident,
		"Bronze.partition_key":           {"pattern": identPattern, "default": DefaultBronzePartitionKey},
		"BronzeTable.name":               ident,
		"Bronze.null_values[]":           {"default": []string{""}},
		"CSV.delimiter":                  {"pattern": `^[\t\x20-\x7e]$`, "default": ","},
		"CSV.quote":                      {"pattern": `^[\t\x20-\x7e]?$`, "default": `"`},
		"CSV.escape":                     {"pattern": `^[\t\x20-\x7e]?$`},
		"CSV.header":                     {"default": true},
		"CSV.skip_rows":                  {"minimum": 0, "default": 0},
		"CSV.encoding":                   {"enum": CSVEncodings, "default": "utf-8"},
		"Column.name":                    ident,
		"Column.type":                    {"pattern": typePattern()},
		"Column.accepted_values[]":       {"minItems": 1},
		"SilverTable.name":               ident,
		"SilverTable.source":             ident,
		"SilverTable.partition_key":      {"pattern": identPattern, "default": DefaultPartitionKey},
		"SilverTable.primary_key":        ident,
		"SilverTable.primary_key[]":      {"minItems": 1},
		"SilverTable.columns[]":          {"minItems": 1},
		"Dedup.order_by":                 {"pattern": `^\s*` + identBody + `(\s+(` + ci("asc") + `|` + ci("desc") + `))?\s*$`},
		"Dedup.order_by[]":               {"minItems": 1},
		"ForeignKey":                     {"oneOf": []any{map[string]any{"required": []string{"column"}}, map[string]any{"required": []string{"columns"}}}},
		"ForeignKey.column":              ident,
		"ForeignKey.columns":             ident,
		"ForeignKey.columns[]":           {"minItems": 1},
		"ForeignKey.references":          {"pattern": `^` + identBody + `\.(` + identBody + `|\(\s*` + identBody + `(\s*,\s*` + identBody + `)*\s*\))$`},
		"ForeignKey.on_orphan":           {"enum": []string{OnOrphanQuarantine, OnOrphanWarn}, "default": OnOrphanQuarantine},
		"Thresholds.max_quarantine_rate": {"minimum": 0, "maximum": 1},
		"Thresholds.max_row_loss":        {"minimum": 0, "maximum": 1},
		"Thresholds.min_rows_for_rate":   {"minimum": 0},
		"Dim.name":                       ident,
		"Dim.source":                     ident,
		"Dim.max_age":                    {"pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d))+$`},
		"DependsOnEntry.table":           ref("silver|dims|enriched|gold"),
		"DependsOnEntry.lookback":        {"pattern": lookbackPattern},
		"ForeignKey.lookback":            {"pattern": lookbackPattern},
		"Transform.name":                 ident,
		"Transform.sql":                  {"pattern": `^[^/\\].*\.sql$`},
		"Transform.depends_on":           ref("silver|dims|enriched"),
		"Transform.partition_key":        {"pattern": identPattern, "default": DefaultPartitionKey},
		"Checks.min_rows":                {"minimum": 0},
		"Checks.not_null":                ident,
		"Mart.name":                      ident,
		"Mart.sql":                       {"pattern": `^[^/\\].*\.sql$`},
		"Mart.depends_on":                ref("silver|dims|enriched|gold"),
		"Mart.partition_by":              ident,
		"Mart.cluster_by":                ident,
		"Deploy.schedules":               {"propertyNames": map[string]any{"enum": scheduleLayers}},
		"Deploy.mode":                    {"enum": []string{"end_to_end", "layered"}, "default": "end_to_end"},
	}
}

// ci makes a case-insensitive regular expression for a word ("asc" -> "[Aa][Ss][Cc]"),
// since JSON Schema patterns have no flags.
func ci(word string) string {
	var b strings.Builder
	for _, r := range word {
		u, l := strings.ToUpper(string(r)), strings.ToLower(string(r))
		if u == l {
			b.WriteRune(r)
			continue
		}
		b.WriteString("[" + u + l + "]")
	}
	return b.String()
}

func typePattern() string {
	names := sqltext.SpecTypeNames()
	alts := make([]string, 0, len(names)+1)
	for _, t := range names {
		alts = append(alts, ci(t))
	}
	alts = append(alts, ci("decimal")+`\s*\(\s*[0-9]+\s*,\s*[0-9]+\s*\)`)
	return `^\s*(` + strings.Join(alts, "|") + `)\s*$`
}

// JSONSchema returns a JSON Schema (draft 2020-12) of the spec format, generated
// from the Spec types, for editors. The bytes are deterministic.
func JSONSchema() []byte {
	g := &schemaGen{defs: map[string]any{}, extra: schemaExtra()}
	root := g.object(reflect.TypeOf(Spec{}))
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = "Pipeline spec"
	root["description"] = "A pipeline spec (pipeline.yaml): bronze tables, base silver, dims, enriched transforms, gold marts."
	root["$defs"] = g.defs
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "<name>" readable in descriptions
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic(err) // only maps, slices, strings and numbers: cannot fail
	}
	return b.Bytes()
}

type schemaGen struct {
	defs  map[string]any
	extra map[string]map[string]any
}

// object is the schema of a struct type: its yaml fields, required ones, nothing else.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range structFields(t) {
		ft := t.Field(f.index).Type
		key := t.Name() + "." + f.name
		p := g.schema(ft, key)
		if d, ok := schemaDocs[key]; ok {
			p["description"] = d
		}
		props[f.name] = p
		if f.required {
			required = append(required, f.name)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	for k, v := range g.extra[t.Name()] {
		o[k] = v
	}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// schema is the schema of type t at field key ("Type.field").
func (g *schemaGen) schema(t reflect.Type, key string) map[string]any {
	var s map[string]any
	switch t.Kind() {
	case reflect.Pointer:
		s = g.schema(t.Elem(), key)
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
			return s
		}
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = nil // reserve: stops recursion
			g.defs[t.Name()] = g.object(t)
		}
		ref := map[string]any{"$ref": "#/$defs/" + t.Name()}
		if _, ok := scalarField(structFields(t)); ok {
			// A plain string stands for the object's scalar field (depends_on entries).
			str := map[string]any{"type": "string"}
			for k, v := range g.extra[key] {
				str[k] = v
			}
			return map[string]any{"anyOf": []any{str, ref}}
		}
		return ref
	case reflect.Slice:
		s = map[string]any{"type": "array", "items": g.schema(t.Elem(), key)}
		for k, v := range g.extra[key+"[]"] {
			s[k] = v
		}
		return s
	case reflect.Map:
		s = map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), "")}
	case reflect.String:
		s = map[string]any{"type": "string"}
	case reflect.Bool:
		s = map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s = map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		s = map[string]any{"type": "number"}
	default:
		panic("spec: no JSON Schema for " + t.String())
	}
	for k, v := range g.extra[key] {
		s[k] = v
	}
	return s
}
