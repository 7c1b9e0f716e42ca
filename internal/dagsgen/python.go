package dagsgen

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// lineWidth is where generated Python lines wrap.
const lineWidth = 100

// pyStr is a Python string literal: double quotes unless the text has some and
// no single quotes, as Python's repr chooses.
func pyStr(s string) string {
	q := byte('"')
	if strings.Contains(s, `"`) && !strings.Contains(s, "'") {
		q = '\''
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyStrs renders each string as a literal.
func pyStrs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = pyStr(s)
	}
	return out
}

// pyDict renders the keys and values (Python source) as "key": value items.
func pyDict(keys []string, value func(string) string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = pyStr(k) + ": " + value(k)
	}
	return out
}

// pyTimedelta renders d with its largest exact unit.
func pyTimedelta(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("datetime.timedelta(hours=%d)", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("datetime.timedelta(minutes=%d)", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("datetime.timedelta(seconds=%d)", d/time.Second)
	}
	return "datetime.timedelta(seconds=" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + ")"
}

// seq renders a bracketed sequence (a list, a dict, call arguments) that starts at
// column col: on one line when it fits, else one item per line, indented by
// indent+4, each with a trailing comma, the closing bracket at indent.
func seq(open, close string, items []string, col, indent int) string {
	one := open + strings.Join(items, ", ") + close
	if col+len(one)+1 <= lineWidth && !strings.Contains(one, "\n") {
		return one
	}
	pad := strings.Repeat(" ", indent+4)
	var b strings.Builder
	b.WriteString(open + "\n")
	for _, it := range items {
		b.WriteString(pad + it + ",\n")
	}
	b.WriteString(strings.Repeat(" ", indent) + close)
	return b.String()
}

// fill is seq for short items that read as one line of text (a command line): when
// they do not fit on one line, they fill lines of lineWidth.
func fill(open, close string, items []string, col, indent int) string {
	one := open + strings.Join(items, ", ") + close
	if col+len(one)+1 <= lineWidth {
		return one
	}
	pad := strings.Repeat(" ", indent+4)
	var b strings.Builder
	b.WriteString(open + "\n")
	line := ""
	for _, it := range items {
		if line != "" && len(pad)+len(line)+len(it)+2 > lineWidth {
			b.WriteString(pad + line + "\n")
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += it + ","
	}
	if line != "" {
		b.WriteString(pad + line + "\n")
	}
	b.WriteString(strings.Repeat(" ", indent) + close)
	return b.String()
}

// kwarg is one keyword argument of a call; Value is Python source laid out for the
// indent of the call's arguments.
type kwarg struct {
	Name, Value string
}

// kwargs builds keyword arguments at an indent, laying out each value with seq or
// fill as it goes.
type kwargs struct {
	indent int
	list   []kwarg
}

func (k *kwargs) add(name, value string) { k.list = append(k.list, kwarg{name, value}) }

func (k *kwargs) col(name string) int { return k.indent + len(name) + 1 }

func (k *kwargs) seq(name, open, close string, items []string) {
	k.add(name, seq(open, close, items, k.col(name), k.indent))
}

func (k *kwargs) fill(name, open, close string, items []string) {
	k.add(name, fill(open, close, items, k.col(name), k.indent))
}

// shellWord matches words that need no quoting in a shell command.
var shellWord = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+-]+$`)

// shellQuote quotes a word for sh unless it is plain.
func shellQuote(s string) string {
	if shellWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pyLongStr is a string literal that starts at column col; when it does not fit,
// it becomes adjacent literals in parentheses, split between words.
func pyLongStr(s string, col, indent int) string {
	if col+len(pyStr(s))+1 <= lineWidth {
		return pyStr(s)
	}
	pad := strings.Repeat(" ", indent+4)
	var parts []string
	line := ""
	for _, w := range strings.SplitAfter(s, " ") {
		if line != "" && len(pad)+len(pyStr(line+w)) > lineWidth {
			parts = append(parts, line)
			line = ""
		}
		line += w
	}
	parts = append(parts, line)
	var b strings.Builder
	b.WriteString("(\n")
	for _, p := range parts {
		b.WriteString(pad + pyStr(p) + "\n")
	}
	b.WriteString(strings.Repeat(" ", indent) + ")")
	return b.String()
}
