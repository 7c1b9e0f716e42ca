package dims

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks"
)

// Freshness describes a dim's latest published snapshot against its max_age.
type Freshness struct {
	Dim string
	// Exists is false when no snapshot was ever published (dims/<dim>/_latest.json).
	Exists bool
	// SnapshotDT and RunID name the latest snapshot (the pointer's partition).
	SnapshotDT string
	RunID      string
	// CommittedAt is the commit time of that snapshot (its committed manifest's
	// committed_at; the pointer's updated_at if the manifest has none).
	CommittedAt time.Time
	// Age is the clock's time minus CommittedAt.
	Age    time.Duration
	MaxAge time.Duration
	// Fresh is Exists && Age < MaxAge.
	Fresh bool
}

// String renders the freshness as one line of key=value pairs.
func (f *Freshness) String() string {
	status := "stale"
	if f.Fresh {
		status = "fresh"
	}
	if !f.Exists {
		return fmt.Sprintf("dim=%s snapshot_dt=none run=none age=none max_age=%s status=%s", f.Dim, Human(f.MaxAge), status)
	}
	return fmt.Sprintf("dim=%s snapshot_dt=%s run=%s committed_at=%s age=%s max_age=%s status=%s",
		f.Dim, f.SnapshotDT, f.RunID, f.CommittedAt.Format(time.RFC3339), Human(f.Age), Human(f.MaxAge), status)
}

// ReadFreshness reads a dim's pointer and the commit point it names, and measures
// the latest snapshot's age by env's clock.
func ReadFreshness(ctx context.Context, env *tasks.Env, d *spec.Dim) (*Freshness, error) {
	fr := &Freshness{Dim: d.Name, MaxAge: d.Age()}
	ptrPath := path.Join(lake.TableDir(lake.Dims, d.Name), lake.LatestFile)
	ptr, _, err := lake.ReadPointer(ctx, env.Lake, ptrPath)
	if errors.Is(err, lake.ErrNotExist) {
		return fr, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dims %s: %w", d.Name, err)
	}
	fr.Exists, fr.SnapshotDT, fr.RunID = true, ptr.Partition[lake.DimsKey], ptr.RunID
	stamp := ptr.UpdatedAt
	if ptr.Manifest != "" {
		m, _, err := lake.ReadManifest(ctx, env.Lake, ptr.Manifest)
		if err != nil {
			return nil, fmt.Errorf("dims %s: the pointer names %s: %w", d.Name, ptr.Manifest, err)
		}
		// The commit point is the truth (a rollback changes it before the pointer).
		fr.SnapshotDT, fr.RunID = m.PartitionValue(), m.RunID
		if m.CommittedAt != "" {
			stamp = m.CommittedAt
		}
	}
	at, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return nil, fmt.Errorf("dims %s: latest snapshot has no readable commit time %q: %w", d.Name, stamp, err)
	}
	fr.CommittedAt = at.UTC()
	fr.Age = env.Clock().Sub(fr.CommittedAt)
	fr.Fresh = fr.Age < fr.MaxAge
	return fr, nil
}

// errNoSnapshot says a dim was never published.
var errNoSnapshot = errors.New("no snapshot published yet")

// CheckOptions select the dim whose freshness to check.
type CheckOptions struct {
	Dim string
}

// Check is the freshness gate (`worker dims check`): it returns the freshness and,
// when the latest snapshot is as old as max_age or older, or there is none, a data
// error (exit 3: the gate failed). A fresh dim returns no error (exit 0).
func Check(ctx context.Context, env *tasks.Env, o CheckOptions) (*Freshness, error) {
	d, _, err := resolve(env, o.Dim)
	if err != nil {
		return nil, err
	}
	fr, err := ReadFreshness(ctx, env, d)
	if err != nil {
		return nil, err
	}
	switch {
	case !fr.Exists:
		return fr, fail.Data(fmt.Errorf("dims %s: %w (run `worker dims snapshot --dim %s` and publish it)", d.Name, errNoSnapshot, d.Name))
	case !fr.Fresh:
		return fr, fail.Data(fmt.Errorf("dims %s: latest snapshot %s (run %s) is %s old, not younger than max_age %s: stale (run `worker dims snapshot --dim %s --if-stale` and publish it)",
			d.Name, fr.SnapshotDT, fr.RunID, Human(fr.Age), Human(fr.MaxAge), d.Name))
	}
	env.Log.Info("dims fresh", "run_id", env.RunID, "dim", d.Name, "snapshot_dt", fr.SnapshotDT, "snapshot_run_id", fr.RunID, "age", Human(fr.Age))
	return fr, nil
}

// Human renders a duration for people: 3h, 1h30m, 45s, 26h5m (no zero units).
func Human(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	if d >= time.Minute {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if neg {
		s = "-" + s
	}
	return s
}
