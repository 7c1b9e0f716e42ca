package audit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSampleRunes is how much of a raw value a message shows.
const maxSampleRunes = 40

// Rates formats an observed rate and its limit with the fewest significant digits
// (at least 4) that keep the comparison readable: "3.8e-05" against "0.01", and
// "0.10004" against "0.1" rather than "0.1" against "0.1".
func Rates(observed, limit float64) (string, string) {
	var a, b string
	for prec := 4; prec <= 17; prec++ {
		a, b = strconv.FormatFloat(observed, 'g', prec, 64), strconv.FormatFloat(limit, 'g', prec, 64)
		if (a == b) == (observed == limit) {
			break
		}
	}
	return a, b
}

// Rate formats a rate alone, to 4 significant digits.
func Rate(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

// Significant rounds f to 6 significant digits for a report: a rate of 3.8e-08
// stays visible, where rounding to 6 decimal places would make it 0.
func Significant(f float64) float64 {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64)
	return r
}

// CutSample cuts a raw value to at most 40 characters, the last three "..." when cut.
func CutSample(s string) string {
	if utf8.RuneCountInString(s) <= maxSampleRunes {
		return s
	}
	return string([]rune(s)[:maxSampleRunes-3]) + "..."
}

// Sample shows a raw value in a message: cut (CutSample), quoted, with quotes,
// backslashes and unprintable characters escaped; nil is NULL.
func Sample(v *string) string {
	if v == nil {
		return "NULL"
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range CutSample(*v) {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError || !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
