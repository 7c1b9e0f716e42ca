package lake

import (
	"reflect"
	"testing"
)

// The names are a contract (DESIGN section 3): specs' SQL, warehouse tables and
// the DAGs read them, so a rename here must fail a test.
func TestLayoutNames(t *testing.T) {
	if DimsKey != "snapshot_dt" {
		t.Errorf("DimsKey = %q", DimsKey)
	}
	want := []Field{{"_reject_reason", "VARCHAR"}, {"_run_id", "VARCHAR"}, {"_source_file", "VARCHAR"}, {"_source_row", "BIGINT"}}
	if got := QuarantineFields(); !reflect.DeepEqual(got, want) {
		t.Errorf("QuarantineFields() = %v, want %v", got, want)
	}
}
