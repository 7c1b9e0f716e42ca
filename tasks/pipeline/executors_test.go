package pipeline

import (
	"testing"

	"github.com/shoplake/lakehouse/internal/spec"
)

// Every kind the graph schedules runs in-process, and every runner is for such a
// kind: adding a kind to spec.Kinds without its runner fails here, not in a run.
func TestExecutorsCoverScheduledKinds(t *testing.T) {
	scheduled := map[string]bool{}
	for _, k := range spec.Kinds() {
		if !k.Scheduled {
			continue
		}
		scheduled[k.Name] = true
		if executors[k.Name] == nil {
			t.Errorf("scheduled kind %s has no executor", k.Name)
		}
	}
	for name := range executors {
		if !scheduled[name] {
			t.Errorf("executor %s is for no scheduled kind", name)
		}
	}
}
