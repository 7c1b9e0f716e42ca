// Package inputfile is how the worker reads the files a user hands it (`bronze
// import`, `specs scaffold`): the format by extension, and DuckDB readers that keep
// every JSON value as the text it arrived as. Both commands read a file the same
// way, so a scaffolded spec describes what an import stores.
package inputfile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/shoplake/lakehouse/internal/duck"
)

// Format is how an input file is read.
type Format int

// The formats, by extension: .csv (with a header row unless the spec says
// otherwise), .parquet, .ndjson/.jsonl (one JSON object a line), .json.
const (
	CSV Format = iota + 1
	Parquet
	NDJSON
	JSON
)

func (f Format) String() string {
	switch f {
	case CSV:
		return "CSV"
	case Parquet:
		return "Parquet"
	case NDJSON:
		return "NDJSON"
	case JSON:
		return "JSON"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Detect gives a file's format by its extension, and whether it is compressed
// (.gz or .zst after the format's extension; Parquet compresses inside).
func Detect(name string) (f Format, compressed bool, err error) {
	base := strings.ToLower(filepath.Base(name))
	for _, z := range []string{".gz", ".zst"} {
		if b, ok := strings.CutSuffix(base, z); ok {
			base, compressed = b, true
			break
		}
	}
	switch ext := filepath.Ext(base); {
	case ext == ".csv":
		return CSV, compressed, nil
	case ext == ".parquet" && !compressed:
		return Parquet, false, nil
	case ext == ".ndjson" || ext == ".jsonl":
		return NDJSON, compressed, nil
	case ext == ".json":
		return JSON, compressed, nil
	}
	return 0, false, fmt.Errorf("input file %s: unknown format (want .csv, .parquet, .ndjson, .jsonl or .json)", name)
}

// ParquetReader is the FROM item reading a Parquet file with its own types. Hive
// partitioning is off: a folder named key=value must not add a column.
func ParquetReader(path string) string {
	return "read_parquet(" + duck.Str(path) + ", hive_partitioning = false)"
}

// JSONReader is the FROM item reading an NDJSON or JSON file with every value as
// text, as it arrived, so the casts a spec asks for decide what converts.
func JSONReader(ctx context.Context, s *duck.Session, path string, f Format) (string, error) {
	format := "'newline_delimited'"
	if f == JSON {
		format = "'auto'"
	}
	opts := ", format = " + format + ", hive_partitioning = false"
	cols, err := s.Describe(ctx, "read_json("+duck.Str(path)+opts+")")
	if err != nil {
		return "", err
	}
	if len(cols) == 0 {
		return "", errors.New("no columns found")
	}
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = duck.Str(c.Name) + ": 'VARCHAR'"
	}
	return "read_json(" + duck.Str(path) + opts + ", columns = {" + strings.Join(defs, ", ") + "})", nil
}
