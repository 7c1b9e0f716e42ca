package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultXComPath is where KubernetesPodOperator's sidecar reads a pod's XCom.
const DefaultXComPath = "/airflow/xcom/return.json"

// Summary is the small XCom a task leaves for Airflow: enough to branch on and
// to find the audit, never the data.
type Summary struct {
	Status           string `json:"status"`
	ExitCode         int    `json:"exit_code"`
	RunID            string `json:"run_id"`
	Task             string `json:"task"`
	Table            string `json:"table"`
	Partition        string `json:"partition"`
	RowsIn           int64  `json:"rows_in"`
	RowsOut          int64  `json:"rows_out"`
	RowsQuarantined  int64  `json:"rows_quarantined"`
	RowsDeduplicated int64  `json:"rows_deduplicated"`
	DurationMS       int64  `json:"duration_ms"`
	Audit            string `json:"audit,omitempty"`
	Report           string `json:"report,omitempty"`
	Error            string `json:"error,omitempty"`
}

// SummaryOf condenses a record; auditURI is where the record was written.
func SummaryOf(r *Record, auditURI string) Summary {
	return Summary{Status: r.Status, ExitCode: r.ExitCode, RunID: r.RunID, Task: r.Task, Table: r.Table,
		Partition: r.Partition, RowsIn: r.RowsIn, RowsOut: r.RowsOut, RowsQuarantined: r.RowsQuarantined,
		RowsDeduplicated: r.RowsDeduplicated, DurationMS: r.DurationMS, Audit: auditURI, Report: r.Report, Error: r.Error}
}

// WriteXCom writes the summary as JSON to path (creating its folder).
func WriteXCom(path string, s Summary) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write xcom %s: %w", path, err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("write xcom: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write xcom %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
