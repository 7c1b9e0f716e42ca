package sqltext

import (
	"fmt"
	"strings"
)

// Finding is a piece of spec SQL that reaches beyond the data a task gives it.
type Finding struct {
	// Off is the byte offset of the offending token in the source.
	Off int
	Msg string
}

// reachingFunctions read or list files, reach other databases, run SQL from a
// string, or read the process's environment and settings. Spec SQL reads data only
// through the layer-qualified names the catalog binds, so none of these is ever
// needed; the DuckDB session's sandbox refuses them at run time as well.
var reachingFunctions = map[string]string{}

func init() {
	for what, names := range map[string][]string{
		"reads files": {"read_text", "read_blob", "read_csv", "read_csv_auto", "read_parquet", "parquet_scan",
			"parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata", "parquet_bloom_probe",
			"read_json", "read_json_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson",
			"read_ndjson_auto", "read_ndjson_objects", "sniff_csv", "read_xlsx", "st_read", "read_duckdb",
			"iceberg_scan", "iceberg_metadata", "iceberg_snapshots", "delta_scan"},
		"lists files":                 {"glob"},
		"reaches another database":    {"sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_attach", "mysql_scan", "postgres_query", "mysql_query"},
		"runs SQL from a string":      {"query", "query_table"},
		"reads the pod's environment": {"getenv", "current_setting", "duckdb_settings", "duckdb_secrets", "which_secret", "duckdb_extensions", "duckdb_databases"},
	} {
		for _, n := range names {
			reachingFunctions[n] = what
		}
	}
}

// statementStarts begin statements that change the session or the outside world;
// spec SQL is one query.
var statementStarts = map[string]bool{
	"COPY": true, "ATTACH": true, "DETACH": true, "INSTALL": true, "LOAD": true, "FORCE": true,
	"PRAGMA": true, "SET": true, "RESET": true, "CALL": true, "EXPORT": true, "IMPORT": true,
	"CREATE": true, "DROP": true, "ALTER": true, "INSERT": true, "UPDATE": true, "DELETE": true,
	"MERGE": true, "TRUNCATE": true, "VACUUM": true, "CHECKPOINT": true, "USE": true,
	"BEGIN": true, "COMMIT": true, "ROLLBACK": true, "ABORT": true, "SUMMARIZE": true,
}

// Reaching lists what in toks reaches beyond the data a task is given: a call of a
// function that reads files, other databases or the environment; a FROM or JOIN of
// a file named by a string ('x.csv': DuckDB's replacement scan) or by a quoted name
// with a dot or slash; a statement other than a query; and a second statement
// after a ";". It works on tokens (comments and strings never match) and is a
// lint, not the barrier: the session sandbox is.
func Reaching(toks []Token) []Finding {
	var out []Finding
	statementStart := true
	for i, t := range toks {
		next := func() (Token, bool) {
			if i+1 < len(toks) {
				return toks[i+1], true
			}
			return Token{}, false
		}
		switch {
		case t.Is(";"):
			if rest := toks[i+1:]; len(rest) > 0 {
				out = append(out, Finding{Off: rest[0].Off, Msg: `holds a second statement after ";": spec SQL is one query`})
				return out
			}
			continue
		case statementStart && t.Kind == Word && statementStarts[strings.ToUpper(t.Text)]:
			out = append(out, Finding{Off: t.Off, Msg: fmt.Sprintf("is not a query: it starts with %s; spec SQL is one query (SELECT or WITH ... SELECT)", strings.ToUpper(t.Text))})
		}
		statementStart = false
		if n, ok := next(); ok && n.Is("(") && (t.Kind == Word || t.Kind == Quoted) {
			if what, bad := reachingFunctions[strings.ToLower(t.Text)]; bad {
				out = append(out, Finding{Off: t.Off, Msg: fmt.Sprintf("calls %s(), which %s: read data through the layer-qualified names its depends_on lists", t.Text, what)})
			}
		}
		if t.Kind == Word && (strings.EqualFold(t.Text, "FROM") || strings.EqualFold(t.Text, "JOIN")) {
			n, ok := next()
			switch {
			case !ok:
			case n.Kind == String:
				out = append(out, Finding{Off: n.Off, Msg: fmt.Sprintf("reads the file %s by name: read data through the layer-qualified names its depends_on lists", n.Text)})
			case n.Kind == Quoted && strings.ContainsAny(n.Text, "./"):
				out = append(out, Finding{Off: n.Off, Msg: fmt.Sprintf("reads %q, a name DuckDB takes for a file: read data through the layer-qualified names its depends_on lists", n.Text)})
			}
		}
	}
	return out
}
