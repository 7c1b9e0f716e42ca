// Command benchfloor is the floor of `make bench` (DESIGN section 8): a plain
// DuckDB COPY of Parquet files to Parquet, with the worker's memory limit and
// threads, so the worker's silver time can be read as a ratio over it.
//
//	benchfloor -out DIR [-memory-limit 2GB] [-threads 2] FILE.parquet...
//	benchfloor -print-settings [-memory-limit 2GB] [-threads 2]
//
// Without -memory-limit and -threads it takes the worker's defaults
// (internal/duck), so the floor and the worker run with the same ones;
// -print-settings prints them ("threads=2 memory_limit=13977MB") and exits.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/shoplake/lakehouse/internal/duck"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchfloor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("benchfloor", flag.ContinueOnError)
	out := fs.String("out", "", "folder for the copies (created; required)")
	mem := fs.String("memory-limit", "", "DuckDB memory_limit, e.g. 2GB (default: the worker's)")
	threads := fs.Int("threads", 0, "DuckDB threads (default: the worker's)")
	printSettings := fs.Bool("print-settings", false, "print the threads and memory limit the floor would use, and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mem == "" {
		*mem = duck.DefaultMemoryLimit()
	}
	if *threads <= 0 {
		*threads = duck.DefaultThreads()
	}
	if *printSettings {
		fmt.Printf("threads=%d memory_limit=%s\n", *threads, *mem)
		return nil
	}
	if *out == "" || fs.NArg() == 0 {
		return fmt.Errorf("usage: benchfloor -out DIR [-memory-limit M] [-threads N] FILE.parquet...")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	setup := []string{"SET TimeZone = 'UTC'", "SET temp_directory = " + str(filepath.Join(*out, "duckdb-tmp")),
		"SET memory_limit = " + str(*mem), "SET threads = " + strconv.Itoa(*threads)}
	for _, q := range setup {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	start := time.Now()
	var rows int64
	for i, f := range fs.Args() {
		dst := filepath.Join(*out, fmt.Sprintf("copy-%05d.parquet", i))
		// The same output format silver writes: Parquet with zstd.
		q := "COPY (SELECT * FROM read_parquet(" + str(f) + ", hive_partitioning = false)) TO " + str(dst) + " (FORMAT parquet, COMPRESSION zstd)"
		res, err := conn.ExecContext(ctx, q)
		if err != nil {
			return fmt.Errorf("copy %s: %w", f, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("copy %s: %w", f, err)
		}
		rows += n
	}
	// One line for bench.sh to parse.
	fmt.Printf("rows=%d files=%d seconds=%.3f\n", rows, fs.NArg(), time.Since(start).Seconds())
	return nil
}

// str quotes a DuckDB string literal.
func str(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
