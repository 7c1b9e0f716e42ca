package warehouse

import (
	"context"
	"fmt"
	"strings"
)

// Features say what a warehouse backend can do. Callers ask them instead of
// switching on the kind (rclone's Features habit), so a new backend is one file
// that declares its Backend, plus its line in Backends and the conformance suite
// (warehousetest), which checks what the features claim.
type Features struct {
	// LocalFile: the warehouse is one database file on this machine
	// (Config.Path). The gold tasks default it into a local lake, and `worker sql`
	// attaches it read-only to read gold.
	LocalFile bool
	// LocalSources: Load reads each Source.Local, a local copy of the lake file;
	// otherwise it reads Source.URI itself (gs:// for BigQuery).
	LocalSources bool
	// NeedsProject: the backend needs Config.Project.
	NeedsProject bool
	// Jobs: every write is a job with a deterministic id, which Result.JobID
	// gives; a retried write with the same RunID reuses it.
	Jobs bool
}

// Backend is one kind of warehouse.
type Backend struct {
	// Kind is the name --warehouse gives it.
	Kind     string
	Features Features
	// Open opens the warehouse a Config describes.
	Open func(ctx context.Context, c Config) (Warehouse, error)
	// QueryHint says how to read gold when `worker sql` cannot attach the
	// warehouse (Features.LocalFile is false); project is Config.Project.
	QueryHint func(project string) string
}

// Backends lists every warehouse backend; the first is the default.
func Backends() []Backend { return []Backend{duckDBBackend(), bigQueryBackend()} }

// Lookup returns the backend of a kind; "" is the default backend.
func Lookup(kind string) (Backend, error) {
	bs := Backends()
	if kind == "" {
		return bs[0], nil
	}
	for _, b := range bs {
		if b.Kind == kind {
			return b, nil
		}
	}
	return Backend{}, fmt.Errorf("unknown warehouse %q: use %s", kind, KindList())
}

// KindList names the backends for messages: "duckdb or bigquery".
func KindList() string {
	bs := Backends()
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.Kind
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
