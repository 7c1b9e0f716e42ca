package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// specReferencePath is the committed reference, relative to this package.
var specReferencePath = filepath.Join("..", "..", "docs", "SPEC.md")

// TestSpecReference fails when docs/SPEC.md is not what the spec types and schemaDocs
// generate; go test ./internal/spec -run TestSpecReference -update rewrites it.
func TestSpecReference(t *testing.T) {
	got := Reference()
	if *update {
		if err := os.WriteFile(specReferencePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(specReferencePath)
	if err != nil {
		t.Fatalf("%v (go test ./internal/spec -run TestSpecReference -update writes it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("docs/SPEC.md is stale: refresh with go test ./internal/spec -run TestSpecReference -update")
	}
	// Keys at every depth, with their types and what is required or defaulted.
	for _, row := range []string{
		"| `pipeline` | string | required | Name of the pipeline (an identifier). |",
		"| `base_silver.tables[].foreign_keys[].references` | string | required |",
		"| `base_silver.tables[].dedup.order_by` | list of strings | required |",
		"| `base_silver.tables[].thresholds.max_row_loss` | number or null |  |",
		"| `bronze.partition_key` | string | default `ingest_dt` |",
		"| `deploy.mode` | string: `end_to_end` \\| `layered` | default `end_to_end` |",
		"| `deploy.schedules` | map of name to string or null (`bronze`, `silver`, `dims`, `enriched`, `gold`) |",
		"| `deploy.tables.<name>.resources.cpu` | string |  |",
		"| `dims[].max_age` | string | required |",
		"| `gold.facts[].depends_on` | list of strings or objects |  |",
		"| `enriched.transforms[].depends_on[].lookback` | string |  |",
		"| `base_silver.tables[].foreign_keys[].lookback` | string |  |",
	} {
		if !strings.Contains(string(got), row) {
			t.Errorf("reference has no row starting %s", row)
		}
	}
	if !strings.Contains(string(got), "column [asc\\|desc]") || !strings.Contains(string(got), "&lt;pipeline&gt;_silver_to_gold") {
		t.Errorf("descriptions are not escaped for a table cell")
	}
}

// TestEverySpecKeyIsDescribed: a key without a schemaDocs entry would reach editors
// and docs/SPEC.md undocumented; an entry naming no key is left over from a rename.
func TestEverySpecKeyIsDescribed(t *testing.T) {
	seen := map[string]bool{}
	var types []reflect.Type
	collectStructs(reflect.TypeOf(Spec{}), map[reflect.Type]bool{}, &types)
	for _, typ := range types {
		for _, f := range structFields(typ) {
			doc := typ.Name() + "." + f.name
			seen[doc] = true
			if strings.TrimSpace(schemaDocs[doc]) == "" {
				t.Errorf("%s (yaml key %q) has no description in schemaDocs (internal/spec/schema.go)", doc, f.name)
			}
		}
	}
	var stale []string
	for doc := range schemaDocs {
		if !seen[doc] {
			stale = append(stale, doc)
		}
	}
	sort.Strings(stale)
	for _, doc := range stale {
		t.Errorf("schemaDocs[%q] describes no spec field", doc)
	}
	// The reference lists every field once.
	keys := specKeys()
	docs := map[string]bool{}
	for _, k := range keys {
		docs[k.Doc] = true
	}
	if len(docs) != len(seen) {
		t.Errorf("reference covers %d of %d fields", len(docs), len(seen))
	}
}

// collectStructs lists every struct type reachable from t through fields.
func collectStructs(t reflect.Type, seen map[reflect.Type]bool, out *[]reflect.Type) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	*out = append(*out, t)
	for _, f := range structFields(t) {
		collectStructs(t.Field(f.index).Type, seen, out)
	}
}
