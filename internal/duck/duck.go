// Package duck opens DuckDB sessions sized for the machine or pod, and quotes
// identifiers and literals for the SQL the worker generates.
package duck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2" // also registers the "duckdb" driver

	"github.com/shoplake/lakehouse/internal/sqltext"
)

// Options size a DuckDB session. Zero values pick defaults that fit the cgroup.
type Options struct {
	// MemoryLimit is a DuckDB size such as "2GB"; default DefaultMemoryLimit.
	MemoryLimit string
	// Threads defaults to the CPU quota.
	Threads int
	// TempDir is where DuckDB spills; default a folder under the OS temp dir.
	TempDir string
	// MaxTempSize bounds the spill (DuckDB's max_temp_directory_size), e.g. "20GB".
	MaxTempSize string
}

// Session is one DuckDB connection (temp tables live per connection).
type Session struct {
	DB   *sql.DB
	Conn *sql.Conn
}

// Open starts an in-memory DuckDB with the given limits.
func Open(ctx context.Context, o Options) (*Session, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	s := &Session{DB: db, Conn: conn}
	mem := o.MemoryLimit
	if mem == "" {
		mem = DefaultMemoryLimit()
	}
	threads := o.Threads
	if threads <= 0 {
		threads = DefaultThreads()
	}
	stmts := []string{
		"SET memory_limit = " + Str(mem),
		"SET threads = " + strconv.Itoa(threads),
		"SET TimeZone = 'UTC'",
	}
	if o.TempDir != "" {
		stmts = append(stmts, "SET temp_directory = "+Str(o.TempDir))
	}
	if o.MaxTempSize != "" {
		stmts = append(stmts, "SET max_temp_directory_size = "+Str(o.MaxTempSize))
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			s.Close()
			return nil, fmt.Errorf("configure duckdb (%s): %w", q, err)
		}
	}
	return s, nil
}

// Sandbox locks the session down once its inputs are known (the trust model of
// DESIGN section 5): files only inside dirs, so spec SQL that reaches for
// read_text('/etc/passwd'), a key file or a service-account token fails at run
// time whatever lint missed; no extension installed or loaded, no other database
// attached, no environment read; and no setting changed afterwards
// (lock_configuration), so SQL cannot undo it. Spilling to temp_directory still
// works. Dirs must be absolute; each is allowed with everything below it.
func (s *Session) Sandbox(ctx context.Context, dirs ...string) error {
	return s.sandbox(ctx, true, dirs)
}

// SandboxFiles is Sandbox without lock_configuration, for a task whose own
// statements change settings between steps (silver build's insertion order). The
// file barrier still holds: DuckDB refuses to enable external access again or to
// widen allowed_directories once external access is off.
func (s *Session) SandboxFiles(ctx context.Context, dirs ...string) error {
	return s.sandbox(ctx, false, dirs)
}

func (s *Session) sandbox(ctx context.Context, lock bool, dirs []string) error {
	var allowed []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if !filepath.IsAbs(d) {
			return fmt.Errorf("duckdb sandbox: %q is not an absolute path", d)
		}
		clean := filepath.Clean(d)
		allowed = append(allowed, strings.TrimSuffix(clean, string(filepath.Separator))+string(filepath.Separator))
		// DuckDB compares the paths it is given; a folder reached through a
		// symlink (macOS /tmp, a mounted volume) is allowed by both names.
		if real, err := filepath.EvalSymlinks(clean); err == nil && real != clean {
			allowed = append(allowed, strings.TrimSuffix(real, string(filepath.Separator))+string(filepath.Separator))
		}
	}
	stmts := []string{
		"SET allowed_directories = [" + strings.Join(quoteAll(allowed), ", ") + "]",
		"SET enable_external_access = false",
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
	}
	if lock {
		stmts = append(stmts, "SET lock_configuration = true")
	}
	for _, q := range stmts {
		if _, err := s.Conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("duckdb sandbox (%s): %w", q, err)
		}
	}
	return nil
}

// IsSandboxRefusal reports whether DuckDB refused err's statement because of
// Sandbox (a file outside the allowed folders, an extension, a locked setting).
func IsSandboxRefusal(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypePermission
}

// ExplainSandboxRefusal adds to err, a refusal IsSandboxRefusal recognises,
// why the statement was refused, for the one line a spec author reads.
func ExplainSandboxRefusal(err error) error {
	return fmt.Errorf("%w\n(the worker's sandbox lets spec SQL read only the data its task binds: DESIGN section 5, trust model)", err)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, v := range ss {
		out[i] = Str(v)
	}
	return out
}

// Close ends the session.
func (s *Session) Close() error {
	s.Conn.Close()
	return s.DB.Close()
}

// Exec runs statements in order.
func (s *Session) Exec(ctx context.Context, stmts ...string) error {
	for _, q := range stmts {
		if _, err := s.Conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Int runs a query returning one integer.
func (s *Session) Int(ctx context.Context, q string) (int64, error) {
	var n sql.NullInt64
	if err := s.Conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, err
	}
	return n.Int64, nil
}

// Column is a column as DuckDB describes a relation.
type Column struct {
	Name string
	Type string
}

// Describe lists the columns of a relation (a FROM clause item) with their types.
func (s *Session) Describe(ctx context.Context, from string) ([]Column, error) {
	rows, err := s.Conn.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+from+")")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Ident quotes an identifier for DuckDB: sqltext.QuoteIdent, the one quoting.
func Ident(name string) string { return sqltext.QuoteIdent(name) }

// Str quotes a string literal: sqltext.QuoteString.
func Str(s string) string { return sqltext.QuoteString(s) }

// StrList renders a SQL list of string literals: ['a', 'b'].
func StrList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = Str(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// DefaultMemoryCap bounds the default memory limit so the worker fits a 2 GiB
// pod: a day's silver at scale 1.0 peaked below 1 GiB RSS with it, for about 12%
// more CPU on its largest table than with 2 GB (DuckDB spills past the limit).
const DefaultMemoryCap = 640 << 20

// DefaultMemoryLimit is 60% of the cgroup memory limit, or of physical memory, at
// most DefaultMemoryCap: DuckDB spills past it to the session's temp directory.
func DefaultMemoryLimit() string {
	limit := cgroupMemory()
	if limit <= 0 {
		limit = physicalMemory()
	}
	if limit <= 0 {
		return strconv.FormatInt(DefaultMemoryCap>>20, 10) + "MB"
	}
	return strconv.FormatInt(min(limit*6/10, DefaultMemoryCap)>>20, 10) + "MB"
}

// DefaultThreads is the CPU quota of the cgroup, or the CPU count.
func DefaultThreads() int {
	if b, err := os.ReadFile("/sys/fs/cgroup/cpu.max"); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 && f[0] != "max" {
			quota, e1 := strconv.ParseFloat(f[0], 64)
			period, e2 := strconv.ParseFloat(f[1], 64)
			if e1 == nil && e2 == nil && period > 0 {
				if n := int(quota/period + 0.999); n >= 1 {
					return min(n, runtime.NumCPU())
				}
			}
		}
	}
	return runtime.NumCPU()
}

func cgroupMemory() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil && n > 0 && n < 1<<50 {
			return n
		}
	}
	return 0
}

func physicalMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// IsInfrastructure reports whether a DuckDB error is about the machine rather
// than the query or the data (out of memory, I/O, interrupts, internal errors), so
// callers report it as an infrastructure failure (exit 1), not bad data or a bad spec.
func IsInfrastructure(err error) bool {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Type {
	case duckdb.ErrorTypeOutOfMemory, duckdb.ErrorTypeIO, duckdb.ErrorTypeInterrupt, duckdb.ErrorTypeFatal,
		duckdb.ErrorTypeInternal, duckdb.ErrorTypeConnection, duckdb.ErrorTypeNetwork, duckdb.ErrorTypePermission,
		duckdb.ErrorTypeHTTP, duckdb.ErrorTypeSettings:
		return true
	}
	return false
}
