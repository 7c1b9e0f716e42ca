package lake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeCRC32C encodes a CRC32C as GCS does: base64 of the big-endian 4 bytes.
func EncodeCRC32C(sum uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], sum)
	return base64.StdEncoding.EncodeToString(b[:])
}

// CRC32C is the GCS-style checksum of b.
func CRC32C(b []byte) string { return EncodeCRC32C(crc32.Checksum(b, castagnoli)) }

// ManifestFile is the name of every manifest.
const ManifestFile = "_MANIFEST.json"

// LatestFile is the name of a table pointer.
const LatestFile = "_latest.json"

// ManifestVersion is the manifest format written by this worker.
const ManifestVersion = 1

// File is one data file a manifest lists. Path is relative to the manifest's folder.
type File struct {
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	CRC32C string `json:"crc32c"`
}

// Field is one column of a manifest's schema, typed with DuckDB type names.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Manifest lists the files of one partition (DESIGN section 3).
type Manifest struct {
	Version     int               `json:"version"`
	Table       string            `json:"table"`
	Layer       string            `json:"layer,omitempty"`
	Partition   map[string]string `json:"partition"`
	RowCount    int64             `json:"row_count"`
	Files       []File            `json:"files"`
	Schema      []Field           `json:"schema,omitempty"`
	Source      string            `json:"source,omitempty"`
	ExtractedAt string            `json:"extracted_at,omitempty"`
	RunID       string            `json:"run_id,omitempty"`
	CommittedAt string            `json:"committed_at,omitempty"`
	SpecSHA256  string            `json:"spec_sha256,omitempty"`
	// RolledBackFrom and RolledBackAt are set on a commit point that `worker
	// rollback` pointed back at an earlier run: the run it replaced, and when.
	RolledBackFrom string `json:"rolled_back_from,omitempty"`
	RolledBackAt   string `json:"rolled_back_at,omitempty"`
	// Build is what the build that staged the partition counted (silver and its
	// quarantine): the gate and publish read it here, never in the build's audit.
	Build *BuildCounts `json:"build,omitempty"`
}

// BuildCounts are a silver build's counts, recorded in both manifests it stages
// (and kept by commit): rows_in == rows_out + rows_quarantined + rows_deduplicated,
// and its quarantine's row_count is rows_quarantined + rows_deduplicated.
type BuildCounts struct {
	RowsIn           int64 `json:"rows_in"`
	RowsOut          int64 `json:"rows_out"`
	RowsQuarantined  int64 `json:"rows_quarantined"`
	RowsDeduplicated int64 `json:"rows_deduplicated"`
	// Reasons counts quarantined rows by reason code.
	Reasons map[string]int64 `json:"reasons,omitempty"`
	// Orphans are, per foreign key that quarantines its orphans, the rows it sent
	// to quarantine and the parent keys they miss most.
	Orphans []Orphans `json:"fk_orphans,omitempty"`
	// SilverOrphans are, per foreign key that keeps its orphans (on_orphan: warn),
	// the rows left in silver whose parent key is missing.
	SilverOrphans []Orphans `json:"fk_orphans_in_silver,omitempty"`
	// Parents maps each foreign key (by name) to a digest of the parent partitions
	// it was checked against: the gate trusts the orphan counts while the parents
	// it would read still have that digest, and checks the data again otherwise.
	Parents map[string]string `json:"fk_parents,omitempty"`
}

// Orphans are the rows of one foreign key whose parent key is missing.
type Orphans struct {
	// ForeignKey names the key by its columns, joined by "," ("carrier,tailnum").
	ForeignKey string `json:"foreign_key"`
	References string `json:"references"`
	// Rows counts the orphan rows; Keys the distinct missing parent keys.
	Rows int64 `json:"rows"`
	Keys int64 `json:"keys"`
	// TopMissing are the most frequent missing keys, most rows first.
	TopMissing []KeyCount `json:"top_missing,omitempty"`
}

// KeyCount is a key (values joined by "|") and how many rows carry it.
type KeyCount struct {
	Key  string `json:"key"`
	Rows int64  `json:"rows"`
}

// String is "key (rows)".
func (k KeyCount) String() string { return fmt.Sprintf("%s (%d)", k.Key, k.Rows) }

// QuarantineSplit splits the rows of a silver quarantine partition into
// quarantined and deduplicated by the counts its build recorded; a manifest
// without them (or whose counts do not add up) counts every row as quarantined.
func (m *Manifest) QuarantineSplit() (quarantined, deduplicated int64) {
	b := m.Build
	if b == nil || b.RowsQuarantined+b.RowsDeduplicated != m.RowCount {
		return m.RowCount, 0
	}
	return b.RowsQuarantined, b.RowsDeduplicated
}

// Pointer is a table's _latest.json: the newest committed partition and its run.
type Pointer struct {
	Version   int               `json:"version"`
	Layer     string            `json:"layer"`
	Table     string            `json:"table"`
	Partition map[string]string `json:"partition"`
	RunID     string            `json:"run_id"`
	Manifest  string            `json:"manifest"`
	UpdatedAt string            `json:"updated_at"`
	// LastCommit is the most recent commit of any partition (a backfill of an
	// older partition moves it, not Partition).
	LastCommit *CommitRecord `json:"last_commit,omitempty"`
}

// CommitRecord records one partition commit in a pointer.
type CommitRecord struct {
	Partition   map[string]string `json:"partition"`
	RunID       string            `json:"run_id"`
	CommittedAt string            `json:"committed_at"`
}

// PartitionValue returns the single partition value of a manifest.
func (m *Manifest) PartitionValue() string {
	for _, v := range m.Partition {
		return v
	}
	return ""
}

// Validate checks a manifest's own consistency: version, counts, and paths that
// stay inside its folder.
func (m *Manifest) Validate() error {
	if m.Version != ManifestVersion {
		return fmt.Errorf("unsupported manifest version %d (want %d)", m.Version, ManifestVersion)
	}
	if m.Table == "" {
		return errors.New("manifest has no table")
	}
	if len(m.Partition) != 1 {
		return fmt.Errorf("manifest partition must have exactly one key, has %d", len(m.Partition))
	}
	var sum int64
	for _, f := range m.Files {
		if err := CheckPath(f.Path); err != nil {
			return fmt.Errorf("file %q escapes the partition folder", f.Path)
		}
		if f.Rows < 0 || f.Bytes < 0 {
			return fmt.Errorf("file %s has negative rows or bytes", f.Path)
		}
		sum += f.Rows
	}
	if sum != m.RowCount {
		return fmt.Errorf("row_count %d differs from the sum of file rows %d", m.RowCount, sum)
	}
	return nil
}

// EncodeJSON renders v as indented JSON with a trailing newline (stable bytes).
func EncodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // only plain structs are encoded
	}
	return buf.Bytes()
}

// ReadManifest reads and validates the manifest at p (a _MANIFEST.json path).
// It returns the object's generation for compare-and-swap.
func ReadManifest(ctx context.Context, l Lake, p string) (*Manifest, int64, error) {
	b, gen, err := readGeneration(ctx, l, p)
	if err != nil {
		return nil, 0, err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, 0, fmt.Errorf("manifest %s: %w", p, err)
	}
	return m, gen, nil
}

// ParseManifest decodes and validates a manifest's bytes: one JSON object, nothing after it.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := decodeOne(b, &m); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// decodeOne decodes b as exactly one JSON object into v: a document that is
// null, not an object, or followed by more data is refused.
func decodeOne(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if int(dec.InputOffset()) != len(b) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// datePattern is a partition date; values are checked with time.Parse too.
var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ParseDate validates a partition date (YYYY-MM-DD, a real calendar day).
func ParseDate(s string) (time.Time, error) {
	if !datePattern.MatchString(s) {
		return time.Time{}, fmt.Errorf("partition %q is not a date (YYYY-MM-DD)", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("partition %q is not a calendar date", s)
	}
	return t, nil
}

// runIDPattern is DESIGN section 3's run id alphabet.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// CheckRunID validates a run id.
func CheckRunID(id string) error {
	if !runIDPattern.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("run id %q must match [A-Za-z0-9_.-]+", id)
	}
	return nil
}

// SafeRunID derives a valid run id from any string (e.g. Airflow's
// "scheduled__2026-11-20T03:00:00+00:00"), replacing other characters with '_'.
func SafeRunID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	id := strings.Trim(b.String(), ".")
	if id == "" {
		id = "run"
	}
	return id
}

// NewRunID makes a fresh run id: UTC time plus randomness.
func NewRunID(now time.Time) string {
	return now.UTC().Format("20060102T150405Z") + "-" + randomHex(3)
}

// Layer names.
const (
	Bronze     = "bronze"
	Silver     = "silver"
	Quarantine = "quarantine"
	Enriched   = "enriched"
	Dims       = "dims"
)

// DimsKey is the partition key of dims snapshots (dims/<dim>/snapshot_dt=<date>/).
const DimsKey = "snapshot_dt"

// Columns silver adds to every quarantine row after the raw bronze columns
// (DESIGN section 3): the rule a row broke, the run, and where the row came from.
const (
	ColRejectReason = "_reject_reason"
	ColRunID        = "_run_id"
	ColSourceFile   = "_source_file"
	ColSourceRow    = "_source_row"
)

// QuarantineFields are the quarantine's own columns, in order, typed.
func QuarantineFields() []Field {
	return []Field{
		{Name: ColRejectReason, Type: "VARCHAR"},
		{Name: ColRunID, Type: "VARCHAR"},
		{Name: ColSourceFile, Type: "VARCHAR"},
		{Name: ColSourceRow, Type: "BIGINT"},
	}
}

// PartitionDir is <layer>/<table>/<key>=<value>.
func PartitionDir(layer, table, key, value string) string {
	return path.Join(layer, table, key+"="+value)
}

// StagingDir is where a run stages one partition: _staging/<run>/<layer>/<table>/<key>=<value>.
func StagingDir(runID, layer, table, key, value string) string {
	return path.Join("_staging", runID, PartitionDir(layer, table, key, value))
}

// RunDir is a partition's immutable folder for one run.
func RunDir(partitionDir, runID string) string {
	return path.Join(partitionDir, "run="+runID)
}

// TableDir is <layer>/<table>.
func TableDir(layer, table string) string { return path.Join(layer, table) }

// CommittedPartitions lists the committed partitions of a table (folders holding a
// partition _MANIFEST.json), sorted by value. Only commit points are listed: data
// files are found through the manifests.
func CommittedPartitions(ctx context.Context, l Lake, layer, table, key string) ([]string, error) {
	objs, err := l.List(ctx, TableDir(layer, table)+"/")
	if err != nil {
		return nil, err
	}
	prefix := TableDir(layer, table) + "/" + key + "="
	var vals []string
	for _, o := range objs {
		rest, ok := strings.CutPrefix(o.Path, prefix)
		if !ok {
			continue
		}
		if v, ok := strings.CutSuffix(rest, "/"+ManifestFile); ok && !strings.Contains(v, "/") {
			vals = append(vals, v)
		}
	}
	sort.Strings(vals)
	return vals, nil
}
