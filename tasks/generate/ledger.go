package generate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/shoplake/lakehouse/internal/lake"
)

// LedgerPath is where Run writes the ledger, relative to the lake root.
const LedgerPath = "_generated/ledger.json"

// LedgerEntry is the expected silver outcome of one bronze row that must not
// reach silver: quarantined with Reason, or deduplicated.
type LedgerEntry struct {
	Table string `json:"table"`
	// Partition is the bronze partition (the day, YYYY-MM-DD).
	Partition string `json:"partition"`
	// Key is the row's primary-key values as written, joined by "|" (NULL as "").
	Key string `json:"key"`
	// Reason is silver's reject reason, or "deduplicated".
	Reason string `json:"reason"`
	// Outcome is "quarantined" or "deduplicated".
	Outcome string `json:"outcome"`
}

func compareEntries(a, b LedgerEntry) int {
	return cmp.Or(
		cmp.Compare(a.Table, b.Table),
		cmp.Compare(a.Partition, b.Partition),
		cmp.Compare(a.Key, b.Key),
		cmp.Compare(a.Reason, b.Reason),
		cmp.Compare(a.Outcome, b.Outcome),
	)
}

// encodeLedger renders the entries as a JSON array, one entry per line, sorted by
// table, partition, key, reason and outcome.
func encodeLedger(entries []LedgerEntry) []byte {
	slices.SortFunc(entries, compareEntries)
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, e := range entries {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n  ")
		b, err := json.Marshal(e)
		if err != nil {
			panic(fmt.Sprintf("encode ledger entry: %v", err)) // a struct of strings always encodes
		}
		buf.Write(b)
	}
	if len(entries) > 0 {
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	return buf.Bytes()
}

// ReadLedger reads the ledger a generate run left in the lake.
func ReadLedger(ctx context.Context, l lake.Lake) ([]LedgerEntry, error) {
	b, err := lake.ReadAll(ctx, l, LedgerPath)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	var entries []LedgerEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("parse ledger %s: %w", LedgerPath, err)
	}
	return entries, nil
}
