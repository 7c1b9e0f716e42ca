package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGCSAuditsReportsAndXComCarryGSURIs: on a GCS lake every URI that audits,
// validation reports and the XCom summary carry is a gs:// URI inside the lake,
// never a local path (the worker's scratch copies, a file:// URL).
func TestGCSAuditsReportsAndXComCarryGSURIs(t *testing.T) {
	emu := startGCS(t)
	tmp := t.TempDir()
	const prefix = "shop"
	root := emu.lakeURL(prefix) + "/"
	wh := filepath.Join(tmp, "wh.duckdb")
	flags := []string{"--lake", emu.lakeURL(prefix), "--warehouse-path", wh,
		"--work-dir", filepath.Join(tmp, "work"), "--now", gcsNow}
	gcsMustRunEnv(t, emu.env(), 0, append(flags, "generate", "--days", "1", "--start", day, "--scale", "0.0005", "--fault-rate", "0.01", "--seed", "7")...)
	gcsMustRunEnv(t, emu.env(), 0, append(flags, "--run-id", "r1", "run", "--partition", day)...)

	// The audit the issue names: inputs and outputs are objects of the lake.
	auditName := prefix + "/_audit/dt=" + day + "/r1/silver.build.orders.json"
	var rec struct {
		Inputs  []struct{ URI string } `json:"inputs"`
		Outputs []struct{ URI string } `json:"outputs"`
	}
	if err := json.Unmarshal(emu.mustRead(t, auditName), &rec); err != nil {
		t.Fatalf("parse %s: %v", auditName, err)
	}
	if len(rec.Inputs) == 0 || len(rec.Outputs) == 0 {
		t.Fatalf("%s: %d inputs and %d outputs, want some of each", auditName, len(rec.Inputs), len(rec.Outputs))
	}
	for _, x := range append(rec.Inputs, rec.Outputs...) {
		if !strings.HasPrefix(x.URI, root) {
			t.Errorf("%s: URI %q is not under %s", auditName, x.URI, root)
		}
	}

	// Every audit and report of the run, of every task kind: every string that
	// looks like a location is a gs:// URI under the lake.
	kinds := map[string]bool{}
	var docs int
	for _, dir := range []string{"_audit", "_reports"} {
		for _, o := range emu.mustList(t, prefix+"/"+dir+"/") {
			if !strings.HasSuffix(o.name, ".json") {
				continue
			}
			docs++
			kinds[dir+":"+strings.Join(strings.SplitN(filepath.Base(o.name), ".", 3)[:2], ".")] = true
			gcsCheckLocations(t, "gs://"+emu.bucket+"/"+o.name, emu.mustRead(t, o.name), root, tmp, wh)
		}
	}
	for _, k := range []string{"_audit:bronze.validate", "_audit:silver.build", "_audit:silver.validate", "_audit:publish.silver",
		"_audit:dims.snapshot", "_audit:publish.dims", "_audit:enriched.build", "_audit:enriched.validate", "_audit:publish.enriched",
		"_audit:gold.load", "_audit:gold.build", "_reports:bronze.validate", "_reports:silver.validate", "_reports:enriched.validate"} {
		if !kinds[k] {
			t.Errorf("no %s document in the lake (have %v)", k, kinds)
		}
	}
	t.Logf("checked %d audits and reports of %d kinds", docs, len(kinds))

	// XCom: a task run by hand with --xcom-file leaves a summary whose audit URI
	// is the gs:// URI of the audit it wrote.
	xcom := filepath.Join(tmp, "xcom", "return.json")
	env := append(emu.env(), "WORKER_XCOM_FILE="+xcom)
	for _, step := range [][]string{
		{"silver", "build", "--table", "orders", "--partition", day},
		{"silver", "validate", "--table", "orders", "--partition", day},
		{"publish", "--layer", "silver", "--table", "orders", "--partition", day},
	} {
		os.Remove(xcom)
		gcsMustRunEnv(t, env, 0, append(append(flags, "--run-id", "x1"), step...)...)
		b, err := os.ReadFile(xcom)
		if err != nil {
			t.Fatalf("worker %s with WORKER_XCOM_FILE: no XCom summary: %v", strings.Join(step, " "), err)
		}
		var sum map[string]any
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatalf("XCom of %s: %v: %s", strings.Join(step, " "), err, b)
		}
		uri, _ := sum["audit"].(string)
		if !strings.HasPrefix(uri, root+"_audit/dt="+day+"/x1/") {
			t.Errorf("XCom of %s: audit %q, want a gs:// URI under %s_audit/dt=%s/x1/", strings.Join(step, " "), uri, root, day)
		} else if _, _, err := emu.read(t.Context(), strings.TrimPrefix(uri, "gs://"+emu.bucket+"/")); err != nil {
			t.Errorf("XCom of %s names audit %s, which cannot be read: %v", strings.Join(step, " "), uri, err)
		}
		if rep, ok := sum["report"].(string); ok && rep != "" && !strings.HasPrefix(rep, root) {
			t.Errorf("XCom of %s: report %q is not a gs:// URI under %s", strings.Join(step, " "), rep, root)
		}
		gcsCheckLocations(t, "XCom of "+strings.Join(step, " "), b, root, tmp, wh)
	}
}

// gcsCheckLocations fails on any string in the JSON document b that names a
// location outside the lake: a gs:// URI not under root, a file:// URL, or a path
// in the test's temp dir (the worker's scratch space). The one local file a GCS
// lake's tasks may name is the DuckDB warehouse (--warehouse-path wh), as
// duckdb:<wh>#<schema>.<table>, in gold audits.
func gcsCheckLocations(t *testing.T, where string, b []byte, root, tmp, wh string) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Errorf("%s: not JSON: %v", where, err)
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			switch {
			case strings.HasPrefix(v, "duckdb:"+wh+"#"):
				// the warehouse table a gold task read or wrote
			case strings.HasPrefix(v, "gs://") && !strings.HasPrefix(v, root):
				t.Errorf("%s: %s %q is a gs:// URI outside the lake %s", where, key, v, root)
			case strings.HasPrefix(v, "file://"), strings.Contains(v, tmp):
				t.Errorf("%s: %s %q names a local file, want a gs:// URI", where, key, v)
			case (key == "uri" || key == "audit" || key == "report" || key == "manifest") && v != "" && !strings.HasPrefix(v, root):
				t.Errorf("%s: %s %q is not a gs:// URI under %s", where, key, v, root)
			}
		}
	}
	walk("", doc)
}
