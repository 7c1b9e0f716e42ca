package logx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONUsesCloudLoggingFields(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, Options{Format: Auto, Terminal: false})
	if err != nil {
		t.Fatal(err)
	}
	log.With("run_id", "r1", "task", "silver.build").Warn("quarantine rate high", "table", "orders")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	for k, want := range map[string]string{"severity": "WARNING", "message": "quarantine rate high", "run_id": "r1", "task": "silver.build", "table": "orders"} {
		if line[k] != want {
			t.Errorf("%s = %v, want %q", k, line[k], want)
		}
	}
	if _, ok := line["time"].(string); !ok {
		t.Errorf("no time field: %v", line)
	}
	for _, k := range []string{"level", "msg"} {
		if _, ok := line[k]; ok {
			t.Errorf("slog's own key %q leaked: %v", k, line)
		}
	}
}

func TestTextHasNoColourOffATerminal(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, Options{Format: Text, Terminal: false})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "table", "orders")
	if strings.Contains(buf.String(), "\x1b[") {
		t.Errorf("ANSI colour codes off a terminal: %q", buf.String())
	}
	if _, err := New(&buf, Options{Format: "yaml"}); err == nil {
		t.Error("unknown format accepted")
	}
}
