package silver

import (
	"context"
	"fmt"
	"strings"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

// How many quarantine reasons the report and the one-line error show, and how many
// raw values of each.
const (
	reportReasons  = 10
	reportSamples  = 5
	messageReasons = 3
	messageSamples = 3
)

// isQuarantineColumn reports whether c is one of the quarantine's own columns,
// never a reason's column.
func isQuarantineColumn(c string) bool {
	for _, f := range lake.QuarantineFields() {
		if f.Name == c {
			return true
		}
	}
	return false
}

// reasonsOf is the cause behind the rates: the rejected rows of the run's staged
// quarantine (view "quarantine") by reason, most first, and for a reason naming a
// column (cast_failed:c, not_null:c, accepted_values:c, check:c, fk_orphan:c; the
// key for pk_null and pk_duplicate) the most frequent distinct raw values of it.
// Deduplicated rows are not rejections and are left out.
type reasonsOf struct {
	top []audit.Reason // at most reportReasons
	// kinds and rows count every reason, shown or not.
	kinds int
	rows  int64
}

func quarantineReasons(ctx context.Context, s *duck.Session, t *spec.SilverTable) (reasonsOf, error) {
	var out reasonsOf
	cols := map[string]bool{}
	described, err := s.Describe(ctx, "quarantine")
	if err != nil {
		return out, err
	}
	for _, c := range described {
		if !isQuarantineColumn(c.Name) {
			cols[c.Name] = true
		}
	}

	rows, err := s.Conn.QueryContext(ctx, `SELECT coalesce(_reject_reason, 'NULL') AS r, count(*) AS n FROM quarantine
WHERE _reject_reason IS DISTINCT FROM `+duck.Str(ReasonDeduplicated)+` GROUP BY r ORDER BY n DESC, r`)
	if err != nil {
		return out, err
	}
	for rows.Next() {
		var r audit.Reason
		if err := rows.Scan(&r.Reason, &r.Rows); err != nil {
			rows.Close()
			return out, err
		}
		out.kinds++
		out.rows += r.Rows
		if len(out.top) < reportReasons {
			out.top = append(out.top, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}

	for i := range out.top {
		r := &out.top[i]
		col, expr := reasonColumn(r.Reason, t, cols)
		if expr == "" {
			continue
		}
		r.Column = col
		if r.Samples, err = rawValues(ctx, s, r.Reason, expr); err != nil {
			return out, err
		}
	}
	return out, nil
}

// reasonColumn is the column a reason names and the SQL reading its raw value from
// the quarantine, or "" when the quarantine has no such raw column (an expr column).
func reasonColumn(reason string, t *spec.SilverTable, cols map[string]bool) (string, string) {
	if reason == "pk_null" || reason == "pk_duplicate" {
		var names, parts []string
		for _, k := range t.PrimaryKey {
			if !cols[k] {
				return "", ""
			}
			names = append(names, k)
			parts = append(parts, fmt.Sprintf("coalesce(CAST(%s AS VARCHAR), 'NULL')", duck.Ident(k)))
		}
		if len(names) == 1 {
			return names[0], "CAST(" + duck.Ident(names[0]) + " AS VARCHAR)"
		}
		return strings.Join(names, "|"), "concat_ws('|', " + strings.Join(parts, ", ") + ")"
	}
	_, col, ok := strings.Cut(reason, ":")
	if !ok || !cols[col] {
		return "", ""
	}
	return col, "CAST(" + duck.Ident(col) + " AS VARCHAR)"
}

// rawValues are the most frequent distinct raw values of expr among the rows of
// reason (nil for NULL), each cut to 40 characters.
func rawValues(ctx context.Context, s *duck.Session, reason, expr string) ([]*string, error) {
	rows, err := s.Conn.QueryContext(ctx, fmt.Sprintf(`SELECT v FROM (SELECT %s AS v, count(*) AS n FROM quarantine WHERE _reject_reason = %s GROUP BY v)
ORDER BY n DESC, v NULLS FIRST LIMIT %d`, expr, duck.Str(reason), reportSamples))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*string
	for rows.Next() {
		var v *string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if v != nil {
			c := audit.CutSample(*v)
			v = &c
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// message renders the top reasons for the one-line error:
// "top reasons [cast_failed:speed 3229, e.g. 'NA', 'n/a'; not_null:id 2, e.g. NULL; and 2 more reasons, 5 rows]".
func (r reasonsOf) message() string {
	if len(r.top) == 0 {
		return ""
	}
	var parts []string
	shown := int64(0)
	for i, x := range r.top {
		if i == messageReasons {
			break
		}
		if len(x.Samples) > messageSamples {
			x.Samples = x.Samples[:messageSamples]
		}
		parts = append(parts, x.String())
		shown += x.Rows
	}
	if more := r.kinds - len(parts); more > 0 {
		rest := r.rows - shown
		parts = append(parts, fmt.Sprintf("and %d more %s, %d %s", more, plural(int64(more), "reason", "reasons"), rest, plural(rest, "row", "rows")))
	}
	return "top reasons [" + strings.Join(parts, "; ") + "]"
}

// rateCheck judges bad of in rows against the spec's maximum rate. With a floor
// (min_rows_for_rate) the rate is taken over max(in, floor) rows, so a partition of
// a handful of rows may lose up to max * floor rows; the report's observed value is
// the plain rate, the message says how it was judged.
func rateCheck(name string, bad, in int64, max *float64, floor *int64, detail, cause string) audit.Check {
	rate := 0.0
	if in > 0 {
		rate = float64(bad) / float64(in)
	}
	c := audit.Check{Name: name, Status: audit.Pass, Observed: audit.Significant(rate)}
	if max == nil {
		c.Message = fmt.Sprintf("no threshold in the spec (%s)", detail)
		return c
	}
	c.Threshold = *max
	over, judged := in, rate
	if floor != nil && *floor > in {
		over = *floor
		judged = float64(bad) / float64(over)
	}
	obs, lim := audit.Rates(judged, *max)
	verdict := obs + " <= " + lim
	if judged > *max {
		c.Status = audit.Fail
		verdict = obs + " exceeds the spec's maximum " + lim
	}
	if over == in {
		c.Message = fmt.Sprintf("%s (%s)", verdict, detail)
	} else {
		c.Message = fmt.Sprintf("%s (%s) taken over min_rows_for_rate %d rows: %s", audit.Rate(rate), detail, over, verdict)
	}
	if c.Status == audit.Fail && cause != "" {
		c.Message += "; " + cause
	}
	return c
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
