package warehouse

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// maxRunPart bounds the run id's share of a job id (BigQuery allows 1,024 characters).
const maxRunPart = 200

// JobID is the deterministic BigQuery job id of the job that writes partition D
// of a table in a run: <kind>_<dataset>_<table>_<YYYYMMDD>_<run id>, e.g.
// gold_load_silver_orders_20261120_manual__2026-11-21T03_00_00. Job ids allow
// letters, digits, _ and -; any other character of the run id becomes _ (a very
// long run id is cut and suffixed with a hash of it, so ids stay distinct).
func JobID(kind string, t Table, partition, runID string) string {
	run := safeJobChars(runID)
	if len(run) > maxRunPart {
		sum := sha256.Sum256([]byte(runID))
		run = run[:maxRunPart-17] + "_" + hex.EncodeToString(sum[:8])
	}
	return strings.Join([]string{kind, t.Dataset, t.Name, strings.ReplaceAll(partition, "-", ""), run}, "_")
}

// AttemptID is the id of the n-th attempt: the base id, then base-a2, base-a3, ...
func AttemptID(base string, attempt int) string {
	if attempt <= 1 {
		return base
	}
	return base + "-a" + strconv.Itoa(attempt)
}

func safeJobChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
