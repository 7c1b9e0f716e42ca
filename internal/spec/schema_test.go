package spec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
)

func TestJSONSchema(t *testing.T) {
	b := JSONSchema()
	if !bytes.Equal(b, JSONSchema()) {
		t.Fatal("JSONSchema is not deterministic")
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["additionalProperties"] != false {
		t.Errorf("root: %v %v", s["$schema"], s["additionalProperties"])
	}
	if !reflect.DeepEqual(s["required"], []any{"pipeline"}) {
		t.Errorf("root required = %v", s["required"])
	}
	defs := s["$defs"].(map[string]any)
	for _, name := range []string{"Bronze", "BronzeTable", "Column", "SilverTable", "Dedup", "ForeignKey", "Thresholds", "Dim", "Transform", "Checks", "Gold", "Mart", "Deploy", "CSV"} {
		d, ok := defs[name].(map[string]any)
		if !ok {
			t.Errorf("no $defs/%s", name)
			continue
		}
		if d["additionalProperties"] != false {
			t.Errorf("$defs/%s allows unknown keys", name)
		}
	}
	col := defs["Column"].(map[string]any)
	if !reflect.DeepEqual(col["required"], []any{"name", "type"}) {
		t.Errorf("Column required = %v", col["required"])
	}
	props := col["properties"].(map[string]any)
	if props["not_null"].(map[string]any)["type"] != "boolean" {
		t.Errorf("not_null = %v", props["not_null"])
	}
	typeRE := regexp.MustCompile(props["type"].(map[string]any)["pattern"].(string))
	for typ, want := range map[string]bool{"VARCHAR": true, "decimal(12, 2)": true, "Timestamp": true, "VARCHR": false, "DECIMAL": false} {
		if typeRE.MatchString(typ) != want {
			t.Errorf("type pattern on %q = %v", typ, !want)
		}
	}
	fk := defs["ForeignKey"].(map[string]any)
	refRE := regexp.MustCompile(fk["properties"].(map[string]any)["references"].(map[string]any)["pattern"].(string))
	for ref, want := range map[string]bool{"customers.customer_id": true, "planes.(carrier, tailnum)": true, "p.(a)": true, "p.(a, b": false, "p": false, "p.a.b": false} {
		if refRE.MatchString(ref) != want {
			t.Errorf("references pattern on %q = %v", ref, !want)
		}
	}
	if _, ok := fk["oneOf"]; !ok {
		t.Errorf("ForeignKey accepts neither column nor columns as its key: %v", fk)
	}
	sched := defs["Deploy"].(map[string]any)["properties"].(map[string]any)["schedules"].(map[string]any)
	if !reflect.DeepEqual(sched["propertyNames"], map[string]any{"enum": []any{"bronze", "silver", "dims", "enriched", "gold"}}) {
		t.Errorf("schedules = %v", sched)
	}
	// Every property is described for editors.
	for name, d := range defs {
		for p, v := range d.(map[string]any)["properties"].(map[string]any) {
			if _, ok := v.(map[string]any)["description"]; !ok {
				t.Errorf("$defs/%s.%s has no description", name, p)
			}
		}
	}
	golden(t, "pipeline.schema.json", b)
}
