package lake

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"cloud.google.com/go/storage"
)

// Retry is the budget of every call a remote lake makes (DESIGN section 5,
// --io-retries and --io-timeout): a call is attempted at most Attempts times,
// with exponential backoff and full jitter between attempts, and one attempt
// may go Timeout without progress (a metadata call without an answer, a read
// without a byte) before it is abandoned and retried.
type Retry struct {
	// Attempts is the most attempts of one call, the first included (>= 1).
	Attempts int
	// Timeout is how long one attempt may wait for an answer or a byte.
	Timeout time.Duration
}

// Defaults of --io-retries and --io-timeout.
const (
	DefaultIORetries = 5
	DefaultIOTimeout = 30 * time.Second
)

// DefaultRetry is the budget of a lake opened without one: 6 attempts, 30 s
// without progress each, so a call gives up after about 3 minutes at worst.
func DefaultRetry() Retry {
	return Retry{Attempts: DefaultIORetries + 1, Timeout: DefaultIOTimeout}
}

// Backoff between attempts: the ceiling starts at firstBackoff and doubles up to
// maxBackoff; each pause is uniformly random below it (full jitter), so workers
// failing together do not retry together.
const (
	firstBackoff = 200 * time.Millisecond
	maxBackoff   = 10 * time.Second
)

func (r Retry) normalized() Retry {
	d := DefaultRetry()
	if r.Attempts < 1 {
		r.Attempts = d.Attempts
	}
	if r.Timeout <= 0 {
		r.Timeout = d.Timeout
	}
	return r
}

// total bounds a call the client library retries itself (copies, streamed
// uploads): every attempt's timeout plus the longest pauses between them.
func (r Retry) total() time.Duration {
	return time.Duration(r.Attempts) * (r.Timeout + maxBackoff)
}

// errStalled is why an attempt was abandoned: no answer or byte within Timeout.
var errStalled = errors.New("no progress")

// stallGuard cancels its context when kick has not been called for d: a
// deadline per attempt for a metadata call, an inactivity timeout for a read.
type stallGuard struct {
	d      time.Duration
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

func newStallGuard(parent context.Context, d time.Duration) (context.Context, *stallGuard) {
	ctx, cancel := context.WithCancelCause(parent)
	s := &stallGuard{d: d, cancel: cancel}
	s.timer = time.AfterFunc(d, func() { cancel(errStalled) })
	return ctx, s
}

// kick records progress: the guard waits d again.
func (s *stallGuard) kick() { s.timer.Reset(s.d) }

// stop releases the guard and cancels its context.
func (s *stallGuard) stop() {
	s.timer.Stop()
	s.cancel(context.Canceled)
}

// stalled reports whether the guard, not its parent, cancelled gctx.
func stalled(gctx context.Context) bool {
	return errors.Is(context.Cause(gctx), errStalled)
}

// retrier counts the attempts of one call and sleeps between them.
type retrier struct {
	budget   Retry
	start    time.Time
	attempts int
	ceiling  time.Duration
}

func newRetrier(budget Retry) *retrier {
	return &retrier{budget: budget, start: time.Now(), ceiling: firstBackoff}
}

// again decides after a failed attempt: nil to try once more (after a jittered
// pause), or the error to return. retry says whether the operation may be sent
// twice; stall whether the attempt was abandoned for lack of progress.
func (r *retrier) again(ctx context.Context, err error, retry, stall bool) error {
	r.attempts++
	if stall {
		err = fmt.Errorf("%w within %s: %w", errStalled, r.budget.Timeout, err)
	}
	if ctx.Err() != nil || !retry || !(stall || storage.ShouldRetry(err)) {
		return err
	}
	if r.attempts >= r.budget.Attempts {
		return fmt.Errorf("gave up after %d attempts in %s: %w", r.attempts, time.Since(r.start).Round(10*time.Millisecond), err)
	}
	pause := rand.N(r.ceiling) + 1
	r.ceiling = min(2*r.ceiling, maxBackoff)
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return err
	case <-t.C:
		return nil
	}
}

// progressed restarts the count after an attempt that made progress (a read
// that delivered bytes before it failed): the budget is per stall, not per object.
func (r *retrier) progressed() {
	r.attempts = 0
	r.ceiling = firstBackoff
	r.start = time.Now()
}

// Call runs f attempt by attempt within the budget, retrying 408, 429, 5xx,
// transport errors and abandoned attempts. Each attempt's context is cancelled
// when f has not called kick for the budget's Timeout (f that never kicks has a
// per-attempt deadline). retry says whether f may be sent twice. When the
// budget is spent the error says "gave up after N attempts in D: <last error>".
func (r Retry) Call(ctx context.Context, retry bool, f func(ctx context.Context, kick func()) error) error {
	r = r.normalized()
	rt := newRetrier(r)
	for {
		actx, guard := newStallGuard(ctx, r.Timeout)
		err := f(actx, guard.kick)
		stall := stalled(actx)
		guard.stop()
		if err == nil {
			return nil
		}
		if err := rt.again(ctx, err, retry, stall); err != nil {
			return err
		}
	}
}
