// Package fail classifies errors into the worker's exit codes (DESIGN section 5).
// Tasks wrap errors with Usage, Data or Skip; main maps them with Code.
package fail

import "errors"

// Exit codes.
const (
	OK       = 0
	Internal = 1 // infrastructure or worker error (I/O, network, bug)
	BadUsage = 2 // usage, a bad flag value, or an invalid spec
	BadData  = 3 // the data failed a gate
	Nothing  = 4 // nothing to do (for Airflow's skip_on_exit_code)
)

// Error carries an exit code with its cause.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Usage marks err as a usage error (exit 2).
func Usage(err error) error { return wrap(BadUsage, err) }

// Data marks err as a failed gate (exit 3).
func Data(err error) error { return wrap(BadData, err) }

// Infra marks err as an infrastructure failure (exit 1) even when it wraps a
// classified error: a task whose audit or report could not be written must be
// retried, whatever it found (a gate's failure nobody can read is not a verdict).
func Infra(err error) error { return wrap(Internal, err) }

// Skip marks err as "nothing to do" (exit 4).
func Skip(err error) error { return wrap(Nothing, err) }

func wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Code maps an error to its exit code: the outermost classified error wins;
// anything unclassified is an internal error.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Worst returns the most severe of two exit codes (3 over 2 over 1 over 4 over 0):
// a failed gate matters most to a caller, "nothing to do" least.
func Worst(a, b int) int {
	rank := map[int]int{OK: 0, Nothing: 1, Internal: 2, BadUsage: 3, BadData: 4}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
