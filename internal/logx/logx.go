// Package logx builds the worker's slog logger: tint on a terminal, JSON with
// Cloud Logging field names (severity, message, time) in pods.
package logx

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
)

// Formats accepted by New.
const (
	Auto = "auto"
	Text = "text"
	JSON = "json"
)

// Options configure New.
type Options struct {
	Format string // auto, text or json
	Level  slog.Level
	// Terminal says whether w is a terminal (auto picks text on one, JSON otherwise).
	Terminal bool
}

// New returns a logger writing to w.
func New(w io.Writer, o Options) (*slog.Logger, error) {
	format := o.Format
	if format == "" || format == Auto {
		format = JSON
		if o.Terminal {
			format = Text
		}
	}
	switch format {
	case Text:
		return slog.New(tint.NewHandler(w, &tint.Options{
			Level:      o.Level,
			TimeFormat: time.TimeOnly,
			NoColor:    !o.Terminal, // tint colours even off a terminal unless told not to
		})), nil
	case JSON:
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
			Level:       o.Level,
			ReplaceAttr: cloudLogging,
		})), nil
	}
	return nil, fmt.Errorf("unknown log format %q (want auto, text or json)", o.Format)
}

// cloudLogging renames slog's built-in keys to Cloud Logging's structured fields.
func cloudLogging(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		return slog.String("severity", Severity(a.Value.Any().(slog.Level)))
	case slog.MessageKey:
		a.Key = "message"
	case slog.TimeKey:
		a.Value = slog.StringValue(a.Value.Time().UTC().Format(time.RFC3339Nano))
	}
	return a
}

// Severity maps a slog level to a Cloud Logging severity.
func Severity(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARNING"
	default:
		return "ERROR"
	}
}

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Discard is a logger that drops everything (for tests and library callers).
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
