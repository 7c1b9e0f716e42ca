package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// ErrBudget is returned (wrapped) when a task would stage more into its work
// directory than --work-dir-limit allows.
var ErrBudget = errors.New("work directory limit exceeded")

// Budgeted wraps a remote lake so that everything a task reads through it (the
// inputs it downloads into its work directory: Parquet files, manifests) counts
// against a limit, checked before each download starts. A local lake needs no
// budget: DuckDB reads its files in place.
type Budgeted struct {
	Lake
	limit int64
	mu    sync.Mutex
	used  int64
}

// WithBudget returns l with a read budget of limit bytes (limit <= 0: no budget).
func WithBudget(l Lake, limit int64) Lake {
	if limit <= 0 {
		return l
	}
	if _, local := l.(Localizer); local {
		return l
	}
	return &Budgeted{Lake: l, limit: limit}
}

// Open implements Lake, charging the object's size to the budget.
func (b *Budgeted) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	info, err := b.Lake.Stat(ctx, p)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	if b.used+info.Size > b.limit {
		used := b.used
		b.mu.Unlock()
		return nil, fmt.Errorf("stage %s (%s) into the work directory: %s already staged, limit %s: %w",
			b.URI(p), FormatSize(info.Size), FormatSize(used), FormatSize(b.limit), ErrBudget)
	}
	b.used += info.Size
	b.mu.Unlock()
	return b.Lake.Open(ctx, p)
}

// Used is how many bytes were read through the budget.
func (b *Budgeted) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// ParseSize reads a size such as 512MB, 20GB, 1.5TiB or a plain byte count.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mult   float64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB)", s)
	}
	return int64(f * mult), nil
}

// FormatSize renders bytes for people: 1.5GB.
func FormatSize(n int64) string {
	switch {
	case n >= 1e12:
		return strconv.FormatFloat(float64(n)/1e12, 'f', 1, 64) + "TB"
	case n >= 1e9:
		return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + "GB"
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "MB"
	case n >= 1e3:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "KB"
	}
	return strconv.FormatInt(n, 10) + "B"
}
