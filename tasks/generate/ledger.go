package generate

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/shoplake/lakehouse/internal/lake"
)

// LedgerPath is where Run writes the ledger, relative to the lake root.
const LedgerPath = "_generated/ledger.json"

// LedgerEntry is the expected silver outcome of one bronze row that must not
// reach silver (quarantined with Reason, or deduplicated), or of a later version
// of a key that does, in another partition than its first (Reason and Outcome
// "later_version").
type LedgerEntry struct {
	Table string `json:"table"`
	// Partition is the bronze partition (the day, YYYY-MM-DD).
	Partition string `json:"partition"`
	// Key is the row's primary-key values as written, joined by "|" (NULL as "").
	Key string `json:"key"`
	// Reason is silver's reject reason, or "deduplicated".
	Reason string `json:"reason"`
	// Outcome is "quarantined", "deduplicated" or "later_version".
	Outcome string `json:"outcome"`
}

// compareEntries is the ledger's order: table, partition, key, reason, outcome.
func compareEntries(a, b LedgerEntry) int {
	return cmp.Or(
		cmp.Compare(a.Table, b.Table),
		cmp.Compare(a.Partition, b.Partition),
		cmp.Compare(a.Key, b.Key),
		cmp.Compare(a.Reason, b.Reason),
		cmp.Compare(a.Outcome, b.Outcome),
	)
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

// ledgerChunk holds the expected outcomes of one table's day compactly: a large
// run expects millions of rows, too many to hold as LedgerEntry values.
type ledgerChunk struct {
	table, day string
	keys       []byte
	rows       []ledgerRow
	reasons    []string // the chunk's distinct reasons
}

type ledgerRow struct {
	off, n uint32 // the key in keys
	reason uint32 // index in reasons
}

func (c *ledgerChunk) add(pk []int, r *rec, reason string) {
	off := len(c.keys)
	for i, col := range pk {
		if i > 0 {
			c.keys = append(c.keys, '|')
		}
		c.keys = append(c.keys, r.v[col]...)
	}
	ri := slices.Index(c.reasons, reason)
	if ri < 0 {
		ri = len(c.reasons)
		c.reasons = append(c.reasons, reason)
	}
	c.rows = append(c.rows, ledgerRow{off: uint32(off), n: uint32(len(c.keys) - off), reason: uint32(ri)})
}

func (c *ledgerChunk) key(r ledgerRow) []byte { return c.keys[r.off : r.off+r.n] }

// rejects counts the chunk's rows that do not reach silver.
func (c *ledgerChunk) rejects() int {
	n := 0
	for _, r := range c.rows {
		if c.reasons[r.reason] != ReasonLaterVersion {
			n++
		}
	}
	return n
}

func outcomeOf(reason string) string {
	switch reason {
	case ReasonDeduplicated:
		return OutcomeDeduplicated
	case ReasonLaterVersion:
		return OutcomeLaterVersion
	}
	return OutcomeQuarantined
}

// writeLedger writes the chunks as one JSON array of LedgerEntry, an entry per
// line, in compareEntries order.
func writeLedger(w io.Writer, chunks []*ledgerChunk) error {
	chunks = slices.Clone(chunks)
	slices.SortStableFunc(chunks, func(a, b *ledgerChunk) int {
		return cmp.Or(cmp.Compare(a.table, b.table), cmp.Compare(a.day, b.day))
	})
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("[")
	first := true
	var line []byte
	for _, c := range chunks {
		// The outcome follows from the reason, so (key, reason) orders the rest.
		slices.SortFunc(c.rows, func(a, b ledgerRow) int {
			return cmp.Or(bytes.Compare(c.key(a), c.key(b)), cmp.Compare(c.reasons[a.reason], c.reasons[b.reason]))
		})
		for _, r := range c.rows {
			if !first {
				bw.WriteString(",")
			}
			first = false
			reason := c.reasons[r.reason]
			line = append(line[:0], "\n  {\"table\":"...)
			line = appendJSONString(line, []byte(c.table))
			line = append(line, ",\"partition\":"...)
			line = appendJSONString(line, []byte(c.day))
			line = append(line, ",\"key\":"...)
			line = appendJSONString(line, c.key(r))
			line = append(line, ",\"reason\":"...)
			line = appendJSONString(line, []byte(reason))
			line = append(line, ",\"outcome\":"...)
			line = appendJSONString(line, []byte(outcomeOf(reason)))
			line = append(line, '}')
			bw.Write(line)
		}
	}
	if !first {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// appendJSONString appends s as a JSON string; plain ASCII takes the fast path.
func appendJSONString(b, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(string(s)) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
