package scaffold

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Thresholds of a scaffolded silver table: the sample passes every rule inferred
// from it, so a partition losing more than this is worth a failed gate.
const scaffoldThreshold = "0.01"

// builder writes YAML lines at an indentation.
type builder struct {
	b strings.Builder
}

func (w *builder) line(indent int, s string) {
	w.b.WriteString(strings.Repeat(" ", indent))
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

// comment writes a comment line; the text is kept on one line.
func (w *builder) comment(indent int, s string) {
	w.line(indent, "# "+oneLine(s))
}

func (w *builder) blank() { w.b.WriteByte('\n') }

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

var plainRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// scalar writes a string as a YAML scalar: plain when it is a word YAML cannot
// read as anything else, double-quoted otherwise.
func scalar(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf":
		return strconv.Quote(s)
	}
	if plainRE.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

func flowList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = scalar(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// renderSpec writes a complete pipeline.yaml for the tables.
func renderSpec(pipeline string, tables []*table) []byte {
	var w builder
	var from []string
	for _, t := range tables {
		for _, in := range t.inputs {
			from = append(from, in.base)
		}
	}
	w.comment(0, "Scaffolded by `worker specs scaffold` from "+strings.Join(from, ", ")+".")
	w.comment(0, "Every choice below was inferred from those rows; lines marked GUESS need a look.")
	w.comment(0, "bronze: the columns as delivered (CSV and JSON values as text, as bronze import stores them).")
	w.comment(0, "base_silver: the narrowest type every value converts to, not_null where the sample has no")
	w.comment(0, "NULL, and a primary key that is unique and non-null in the sample.")
	w.comment(0, "Check it with: worker --specs <this folder> specs lint")
	first := tables[0]
	w.comment(0, fmt.Sprintf("Then load a day of each table: worker --specs <this folder> bronze import --table %s --partition <YYYY-MM-DD> %s",
		first.name, first.inputs[0].base))
	w.line(0, "pipeline: "+pipeline)
	w.line(0, `schedule: "0 3 * * *"`)
	w.blank()
	w.line(0, "bronze:")
	w.line(2, "partition_key: ingest_dt")
	w.line(2, "tables:")
	for _, t := range tables {
		renderBronze(&w, 4, t)
	}
	w.blank()
	w.line(0, "base_silver:")
	w.line(2, "tables:")
	for i, t := range tables {
		if i > 0 {
			w.blank()
		}
		renderSilver(&w, 4, t)
	}
	return []byte(w.b.String())
}

// renderBronze writes one bronze table entry, its dash at column indent.
func renderBronze(w *builder, indent int, t *table) {
	var files []string
	for _, in := range t.inputs {
		files = append(files, in.base)
	}
	w.comment(indent, fmt.Sprintf("%s: %s, %s %s, %s", t.name, strings.Join(files, ", "), strconv.FormatInt(t.rows, 10), plural(t.rows, "row"), t.inputs[0].format))
	w.line(indent, "- name: "+t.name)
	in := indent + 2
	if t.csvBlock() {
		d := t.inputs[0].dialect
		w.comment(in, t.dialectNote())
		w.line(in, fmt.Sprintf("csv: {delimiter: %s, quote: %s, escape: %s, header: %t, skip_rows: %d, encoding: %s}",
			strconv.Quote(d.Delimiter), strconv.Quote(d.Quote), strconv.Quote(d.Escape), d.Header, d.SkipRows, d.Encoding))
	}
	if len(t.nullTokens) > 0 {
		for _, n := range t.nullTokens {
			w.comment(in, fmt.Sprintf("%q means missing: seen in %s", n.value, n.where))
		}
		w.comment(in, `"" (an empty field) stays a null token, as by default`)
		w.line(in, "null_values: "+quotedList(append([]string{""}, t.tokenValues()...)))
	}
	w.line(in, "columns:")
	for _, c := range t.columns {
		w.line(in+2, fmt.Sprintf("- {name: %s, type: %s}", c.name, scalarType(c.bronzeType)))
	}
}

// quotedList writes every string double-quoted: null tokens are the values YAML
// itself would read as something else (null, NaN, "-").
func quotedList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// scalarType writes a DuckDB type: DECIMAL(10,2) has a comma, so it is quoted.
func scalarType(t string) string {
	if regexp.MustCompile(`^[A-Z0-9_]+$`).MatchString(t) {
		return t
	}
	return strconv.Quote(t)
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// renderSilver writes one base_silver table entry, its dash at column indent.
func renderSilver(w *builder, indent int, t *table) {
	w.line(indent, "- name: "+t.name)
	in := indent + 2
	w.line(in, "source: "+t.name)
	if t.pkNote != "" {
		w.comment(in, t.pkNote)
	} else {
		note := "unique and non-null in the sample: " + strings.Join(t.pk, " + ")
		if len(t.otherKeys) > 0 {
			var others []string
			for _, k := range t.otherKeys {
				others = append(others, strings.Join(k, " + "))
			}
			note += "; other candidates: " + strings.Join(others, ", ")
		}
		w.comment(in, note)
	}
	w.line(in, "primary_key: "+flowList(t.pk))
	w.line(in, "columns:")
	for _, c := range t.columns {
		for _, n := range c.notes {
			w.comment(in+2, n)
		}
		line := silverColumn(t, c, nil, "")
		if len(c.accepted) > 0 {
			w.comment(in+2, fmt.Sprintf("suggested: %d distinct values in %d rows; to allow only them, use this line instead:", c.distinct, c.nonNull))
			w.comment(in+2, silverColumn(t, c, c.accepted, ""))
		}
		if c.check != "" {
			w.comment(in+2, "suggested: no value is negative in the sample; to reject negative ones, use this line instead:")
			w.comment(in+2, silverColumn(t, c, nil, c.check))
		}
		w.line(in+2, line)
	}
	var live, commented []foreignKey
	for _, fk := range t.fks {
		if fk.live {
			live = append(live, fk)
		} else {
			commented = append(commented, fk)
		}
	}
	if len(live) > 0 {
		w.line(in, "foreign_keys:")
	} else if len(commented) > 0 {
		w.comment(in, "foreign_keys:")
	}
	for _, fk := range live {
		w.comment(in+2, fk.why)
		w.line(in+2, fkLine(fk))
	}
	for _, fk := range commented {
		w.comment(in+2, fk.why)
		w.comment(in+2, fkLine(fk))
	}
	w.line(in, fmt.Sprintf("thresholds: {max_quarantine_rate: %s, max_row_loss: %s}", scaffoldThreshold, scaffoldThreshold))
}

func fkLine(fk foreignKey) string {
	return fmt.Sprintf("- {column: %s, references: %s.%s}", fk.column, fk.parent, fk.parentColumn)
}

// silverColumn writes a silver column as a flow mapping.
func silverColumn(t *table, c *column, accepted []string, check string) string {
	parts := []string{"name: " + c.name, "type: " + scalarType(c.silverType)}
	isKey := false
	for _, k := range t.pk {
		isKey = isKey || k == c.name
	}
	if isKey || t.rows > 0 && c.nonNull == t.rows {
		parts = append(parts, "not_null: true")
	}
	if c.expr != "" {
		parts = append(parts, "expr: "+strconv.Quote(c.expr))
	}
	if len(accepted) > 0 {
		parts = append(parts, "accepted_values: "+flowList(accepted))
	}
	if check != "" {
		parts = append(parts, "check: "+strconv.Quote(check))
	}
	return "- {" + strings.Join(parts, ", ") + "}"
}
