package bronze

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/spec"
)

// dialect is how one CSV file is parsed. It is fixed before anything reads the
// file, and DuckDB gets it verbatim (auto_detect off), so the pre-scan and DuckDB
// see the same records.
type dialect struct {
	delim, quote, escape byte // quote, escape: 0 for none
	header               bool
	skip                 int
	encoding             string // one of spec.CSVEncodings
}

// specDialect is the dialect a bronze table's csv block fixes.
func specDialect(c *spec.CSV) dialect {
	return dialect{delim: c.Delim(), quote: c.QuoteChar(), escape: c.EscapeChar(), header: c.HasHeader(),
		skip: c.SkipRows, encoding: c.EncodingName()}
}

// options renders the dialect as read_csv arguments.
func (d dialect) options() string {
	char := func(b byte) string {
		if b == 0 {
			return "''"
		}
		return duck.Str(string(rune(b)))
	}
	return fmt.Sprintf("auto_detect = false, delim = %s, quote = %s, escape = %s, header = %t, skip = %d, encoding = %s",
		char(d.delim), char(d.quote), char(d.escape), d.header, d.skip, duck.Str(d.encoding))
}

// sniffDialect detects the dialect of a file whose table has no csv block, as the
// import always did, with DuckDB's sniffer. When the sniffer fails or finds no
// delimiter at all (one column, though the table has several: what a few ragged
// rows do to it), the delimiter is the most frequent candidate on the first line,
// so the pre-scan names the bad lines instead of a later "lacks columns". Lines
// the sniffer would skip are skipped only if the header after them names every
// bronze column: ragged rows also make it skip to the first of them.
// A quote the sniffer did not see in its sample is still '"' (RFC 4180).
func sniffDialect(ctx context.Context, s *duck.Session, in input, cols []spec.Column) (dialect, error) {
	d := dialect{delim: ',', quote: '"', escape: '"', header: true, encoding: "utf-8"}
	var delim, quote, escape, names string
	var skip, n int64
	err := s.Conn.QueryRowContext(ctx, "SELECT Delimiter, Quote, Escape, SkipRows, len(Columns), "+
		"array_to_string(list_transform(Columns, c -> lower(trim(c.name))), chr(1)) FROM sniff_csv("+duck.Str(in.abs)+")").
		Scan(&delim, &quote, &escape, &skip, &n, &names)
	if ctx.Err() != nil {
		return d, ctx.Err()
	}
	if err != nil || len(delim) != 1 || (n == 1 && len(cols) > 1) {
		first, ferr := firstCSVLine(in)
		if ferr != nil {
			return d, ferr
		}
		best := 0
		for _, c := range []byte{',', ';', '\t', '|'} {
			if k := bytes.Count(first, []byte{c}); k > best {
				d.delim, best = c, k
			}
		}
		return d, nil
	}
	d.delim = delim[0]
	if len(quote) == 1 {
		d.quote, d.escape = quote[0], quote[0]
	}
	if len(escape) == 1 {
		d.escape = escape[0]
	}
	if skip > 0 {
		found := map[string]bool{}
		for _, name := range strings.Split(names, "\x01") {
			found[name] = true
		}
		all := true
		for _, c := range cols {
			all = all && found[strings.ToLower(c.Name)]
		}
		if all {
			d.skip = int(skip)
		}
	}
	return d, nil
}

// firstCSVLine returns the first line of a (possibly compressed) file.
func firstCSVLine(in input) ([]byte, error) {
	r, closeInput, err := openInput(in)
	if err != nil {
		return nil, err
	}
	defer closeInput()
	line, err := bufio.NewReader(r).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fail.Data(fmt.Errorf("read %s: %w", in.name, err))
	}
	return line, nil
}

// openInput opens an input file for reading, decompressed when its name ends in
// .gz or .zst; the returned func closes the decompressor and the file.
func openInput(in input) (io.Reader, func(), error) {
	f, err := os.Open(in.abs)
	if err != nil {
		return nil, nil, fmt.Errorf("input file %s: %w", in.name, err)
	}
	name := strings.ToLower(in.name)
	switch {
	case strings.HasSuffix(name, ".gz"):
		z, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, nil, fail.Data(fmt.Errorf("read %s: not a gzip file: %w", in.name, err))
		}
		return z, func() { z.Close(); f.Close() }, nil
	case strings.HasSuffix(name, ".zst"):
		z, err := zstd.NewReader(f)
		if err != nil {
			f.Close()
			return nil, nil, fail.Data(fmt.Errorf("read %s: not a zstd file: %w", in.name, err))
		}
		// A zstd decoder runs goroutines until it is closed.
		return z, func() { z.Close(); f.Close() }, nil
	}
	return f, func() { f.Close() }, nil
}

// maxReported is how many bad lines a malformed file's error lists.
const maxReported = 5

// csvProblem is one bad line of a CSV file.
type csvProblem struct {
	line  int
	cause string
}

// MalformedError refuses a CSV file that is not well formed, with its first bad
// lines as "file:line: cause".
type MalformedError struct {
	File     string
	problems []csvProblem // the first maxReported
	bad      int          // bad lines in all
}

func (e *MalformedError) Error() string {
	p := e.problems[0]
	more := ""
	if e.bad > 1 {
		more = fmt.Sprintf(" and %d more bad line(s)", e.bad-1)
	}
	return fmt.Sprintf("%s is not a well-formed CSV file: %s:%d: %s%s; nothing was imported", e.File, e.File, p.line, p.cause, more)
}

// Lines are the reported bad lines, "file:line: cause", for the terminal.
func (e *MalformedError) Lines() []string {
	out := make([]string, 0, len(e.problems)+1)
	for _, p := range e.problems {
		out = append(out, fmt.Sprintf("%s:%d: %s", e.File, p.line, p.cause))
	}
	if e.bad > len(e.problems) {
		out = append(out, fmt.Sprintf("%s: %d more bad line(s) not shown", e.File, e.bad-len(e.problems)))
	}
	return out
}

// scanState is where a CSV parser stands within a field.
type scanState int

const (
	fieldStart scanState = iota // before a field's first character (spaces allowed before a quote)
	unquoted
	quoted
	afterQuote // a quoted field's closing quote was read
)

// csvScan checks a CSV file in one streaming pass before DuckDB reads it: valid
// text in its encoding, no NUL byte, balanced quotes, a header without duplicate
// names, and the same number of fields in every record. Lines without a quote
// character, the common case, are checked with a byte count.
type csvScan struct {
	d     dialect
	file  string
	ncols int // the bronze table's columns, for header: false

	// header are the column names (header: true), want the fields every record has.
	header []string
	want   int
	rows   int64

	problems []csvProblem
	bad      int
	lastBad  int // the line of the last problem, so a line counts once
	// firstBlank is the first blank line after the header (0: none): DuckDB
	// skips it, unless the file has one column.
	firstBlank int
	// firstLF and firstCRLF are the first lines ending so (0: none).
	firstLF, firstCRLF int

	// The record being parsed.
	inRecord  bool
	content   bool
	recLine   int
	fields    int
	st        scanState
	escaped   bool
	quoteLine int
	collect   bool // parsing the header: keep the values
	cur       []byte
	names     []string
}

// scanCSV pre-scans an input; a malformed file is a data error listing its bad lines.
func scanCSV(in input, d dialect, ncols int) (*csvScan, error) {
	r, closeInput, err := openInput(in)
	if err != nil {
		return nil, err
	}
	defer closeInput()
	sc, err := scanReader(r, in.name, d, ncols)
	if err != nil && sc == nil {
		return nil, fail.Data(fmt.Errorf("read %s: %w", in.name, err))
	}
	return sc, err
}

// scanReader pre-scans the text of a file named name (decompressed, as read).
// It returns a nil scan with a plain error when reading fails, and the scan with
// a data error when the file is malformed.
func scanReader(r io.Reader, name string, d dialect, ncols int) (*csvScan, error) {
	sc := &csvScan{d: d, file: name, ncols: ncols, collect: d.header}
	br := bufio.NewReaderSize(r, 1<<18)
	var check *utf16Check
	if d.encoding == "utf-16" {
		// DuckDB reads UTF-16 as little-endian (a BOM FF FE is optional); a
		// big-endian file would come out as nothing at all.
		if bom, _ := br.Peek(2); len(bom) == 2 && bom[0] == 0xFE && bom[1] == 0xFF {
			sc.problem(1, "UTF-16 big-endian (BOM FE FF) is not supported: convert the file to UTF-16LE or UTF-8")
			return sc, sc.err()
		}
		check = &utf16Check{r: br, line: 1}
		br = bufio.NewReaderSize(transform.NewReader(check, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()), 1<<18)
	}
	var long []byte
	ln := 0
	for {
		line, rerr := br.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(rerr, bufio.ErrBufferFull) {
				line, rerr = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			ln++
			if ln == 1 {
				line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
			}
			sc.latin1Check(ln, line)
			if ln <= d.skip {
				// A skipped line is not parsed, but DuckDB still splits lines at a
				// lone CR: it would skip less than the spec says.
				body := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
				if i := bytes.IndexByte(body, '\r'); i >= 0 {
					sc.problem(ln, loneCR, charColumn(line, i))
				}
				if d.quote != 0 && bytes.Count(body, []byte{d.quote})%2 == 1 {
					// DuckDB reads quotes in skipped lines too: an open quote would
					// carry its skip into the lines after (found by FuzzImportCSV).
					sc.problem(ln, "an unbalanced quote %q among the %d skip_rows lines: DuckDB would skip past this line; remove it, or set skip_rows to skip the lines it spans", printable(d.quote), d.skip)
				}
				if len(body) == 0 {
					// DuckDB's skip does not count blank lines the way the spec reads
					// skip_rows (found by FuzzImportCSV): refuse rather than guess.
					sc.problem(ln, "a blank line among the %d skip_rows lines: DuckDB would skip a different line; remove it, or set skip_rows to skip it too", d.skip)
				}
			}
			if ln > d.skip {
				if ln == d.skip+1 && lineEndsWithCR(line) {
					// The whole file would be one line, and DuckDB would guess otherwise.
					sc.problem(ln, "line ends are a lone CR (classic Mac OS): convert them to LF or CRLF")
					return sc, sc.err()
				}
				sc.line(ln, line)
			}
			if ln <= d.skip || !sc.inRecord || ln == 1 {
				// A record's end (or a skipped line's), not a quoted field's; but
				// DuckDB takes the file's line end from its first line break,
				// quoted or not (found by FuzzImportCSV), so line 1 counts anyway.
				sc.lineEnd(ln, line)
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	if check != nil && check.badLine > 0 {
		// The decoder would make U+FFFD of it, or a character DuckDB's UTF-16
		// reader refuses: it reads no surrogate at all, paired or not.
		sc.problem(check.badLine, "UTF-16 surrogate code unit 0x%04X (a character beyond U+FFFF, such as an emoji, or broken UTF-16): DuckDB reads neither, convert the file to UTF-8", check.badUnit)
	}
	sc.end(ln)
	return sc, sc.err()
}

// utf16Check passes UTF-16LE bytes through and finds the first surrogate code
// unit, with the line it is on.
type utf16Check struct {
	r       io.Reader
	odd     []byte // a byte of a code unit split across reads
	line    int
	badLine int
	badUnit uint16
}

func (c *utf16Check) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	b := p[:n]
	if len(c.odd) > 0 && len(b) > 0 {
		c.unit(uint16(c.odd[0]) | uint16(b[0])<<8)
		c.odd, b = c.odd[:0], b[1:]
	}
	for ; len(b) >= 2; b = b[2:] {
		c.unit(uint16(b[0]) | uint16(b[1])<<8)
	}
	if len(b) == 1 {
		c.odd = append(c.odd[:0], b[0])
	}
	return n, err
}

func (c *utf16Check) unit(u uint16) {
	switch {
	case u >= 0xD800 && u <= 0xDFFF && c.badLine == 0:
		c.badLine, c.badUnit = c.line, u
	case u == '\n':
		c.line++
	}
}

// lineEndsWithCR reports whether a line read up to LF holds a CR before its end:
// a file whose lines end in CR alone.
func lineEndsWithCR(line []byte) bool {
	body := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	i := bytes.IndexByte(body, '\r')
	return i >= 0 && i < len(body)-1
}

func (sc *csvScan) err() error {
	if sc.bad == 0 {
		return nil
	}
	return fail.Data(&MalformedError{File: sc.file, problems: sc.problems, bad: sc.bad})
}

func (sc *csvScan) problem(line int, format string, args ...any) {
	if sc.bad > 0 && sc.lastBad == line {
		return
	}
	sc.bad++
	sc.lastBad = line
	if len(sc.problems) < maxReported {
		sc.problems = append(sc.problems, csvProblem{line: line, cause: fmt.Sprintf(format, args...)})
	}
}

// charColumn is the 1-based character column of byte offset i in line.
func charColumn(line []byte, i int) int { return utf8.RuneCount(line[:i]) + 1 }

func (sc *csvScan) line(ln int, line []byte) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		sc.problem(ln, "NUL byte at column %d: the file is binary, or UTF-16 read as utf-8 (set csv.encoding)", charColumn(line, i))
	}
	if sc.d.encoding == "utf-8" && !utf8.Valid(line) {
		i := 0
		for i < len(line) {
			r, size := utf8.DecodeRune(line[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		sc.problem(ln, "invalid UTF-8 (byte 0x%02X at column %d): if the file is not UTF-8, set csv.encoding to latin-1 or utf-16", line[i], charColumn(line, i))
	}
	if !sc.inRecord && !sc.collect && (sc.d.quote == 0 || bytes.IndexByte(line, sc.d.quote) < 0) {
		body := bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(body, '\r'); i >= 0 {
			sc.problem(ln, loneCR, charColumn(line, i))
		} else if bytes.HasSuffix(line, []byte("\r")) {
			// The last line, ended by a CR alone (found by FuzzImportCSV).
			sc.problem(ln, loneCR, charColumn(line, len(line)-1))
		}
		if len(body) > 0 {
			sc.record(ln, bytes.Count(body, []byte{sc.d.delim})+1)
		} else {
			sc.blank(ln)
		}
		return
	}
	d := sc.d
	for i := 0; i < len(line); i++ {
		b := line[i]
		if !sc.inRecord {
			sc.inRecord, sc.content, sc.recLine, sc.fields, sc.st = true, false, ln, 0, fieldStart
		}
		switch sc.st {
		case fieldStart, unquoted:
			switch {
			case b == d.delim:
				sc.endField()
			case b == '\n':
				sc.endRecord()
			case sc.st == fieldStart && b == d.quote && d.quote != 0:
				sc.st, sc.quoteLine, sc.content = quoted, ln, true
				sc.cur = sc.cur[:0]
			case b == '\r' && (i+1 == len(line) || line[i+1] != '\n'):
				sc.problem(ln, loneCR, charColumn(line, i))
			case sc.st == fieldStart && (b == ' ' || b == '\t' || b == '\r'):
				if b != '\r' {
					sc.content = true
				}
			default:
				sc.st, sc.content = unquoted, true
				if sc.collect {
					sc.cur = append(sc.cur, b)
				}
			}
		case quoted:
			switch {
			case sc.escaped:
				sc.escaped = false
				if sc.collect {
					sc.cur = append(sc.cur, b)
				}
			case b == d.escape && d.escape != d.quote:
				sc.escaped = true
			case b == d.quote && d.escape == d.quote && i+1 < len(line) && line[i+1] == d.quote:
				i++
				if sc.collect {
					sc.cur = append(sc.cur, b)
				}
			case b == d.quote:
				sc.st = afterQuote
			default:
				if sc.collect {
					sc.cur = append(sc.cur, b)
				}
			}
		case afterQuote:
			switch {
			case b == d.delim:
				sc.endField()
			case b == '\n':
				sc.endRecord()
			case b == '\r' && (i+1 == len(line) || line[i+1] != '\n'):
				sc.problem(ln, loneCR, charColumn(line, i))
			case b == ' ' || b == '\t' || b == '\r':
			default:
				sc.problem(ln, "unexpected %q after the closing quote of field %d: quote the whole field, and double a quote inside it", printable(b), sc.fields+1)
				sc.st = unquoted
			}
		}
	}
}

// loneCR is the problem of a CR outside quotes that does not end its line:
// DuckDB may take it for a line end (and split the record) or read nothing.
const loneCR = "a CR not followed by LF outside quotes (column %d): DuckDB may end the record there; remove it, or quote the field that holds it"

// latin1Check refuses the C1 controls 0x80-0x9F in a latin-1 file, skipped lines
// included: DuckDB's latin-1 is ISO-8859-1 without them and refuses the whole file
// (found by FuzzImportCSV); they are what windows-1252 uses for quotes and dashes.
func (sc *csvScan) latin1Check(ln int, line []byte) {
	if sc.d.encoding != "latin-1" {
		return
	}
	for i, b := range line {
		if b >= 0x80 && b <= 0x9F {
			sc.problem(ln, "byte 0x%02X at column %d is not a latin-1 character (a windows-1252 file?): DuckDB refuses it; convert the file to UTF-8", b, i+1)
			return
		}
	}
}

// printable shows a byte of a message: the character, or its hex code.
func printable(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return string(rune(b))
	}
	return fmt.Sprintf("\\x%02X", b)
}

func (sc *csvScan) endField() {
	if sc.collect {
		sc.names = append(sc.names, sc.headerName(len(sc.names)))
	}
	sc.fields++
	sc.st = fieldStart
	sc.cur = sc.cur[:0]
}

func (sc *csvScan) endRecord() {
	sc.inRecord = false
	if !sc.content && sc.fields == 0 {
		sc.blank(sc.recLine)
		return
	}
	if sc.collect {
		sc.names = append(sc.names, sc.headerName(len(sc.names)))
	}
	sc.record(sc.recLine, sc.fields+1)
}

// lineEnd notes how a line outside a quoted field ends. DuckDB takes the file's
// line end from its start: after LF lines, CRLF records come out as nothing at
// all (or as a parser error), so a mix is refused at the first line that differs.
func (sc *csvScan) lineEnd(ln int, line []byte) {
	if !bytes.HasSuffix(line, []byte("\n")) {
		return
	}
	crlf := bytes.HasSuffix(line, []byte("\r\n"))
	first := sc.firstLF == 0 && sc.firstCRLF == 0
	switch {
	case crlf && sc.firstCRLF == 0:
		sc.firstCRLF = ln
	case !crlf && sc.firstLF == 0:
		sc.firstLF = ln
	default:
		return
	}
	if !first {
		sc.problem(ln, "line ends mix LF (line %d) and CRLF (line %d), which DuckDB misreads: convert them to one kind", sc.firstLF, sc.firstCRLF)
	}
}

// blank notes a blank line. DuckDB skips one between records, but takes one
// before the header for the header (and the header for a record: refused here),
// and reads one in a one-column file as a row of NULL (refused at the end).
func (sc *csvScan) blank(ln int) {
	switch {
	case sc.collect:
		sc.problem(ln, "blank line before the header: DuckDB would read it as the header, and the header as a row; remove it")
	case sc.firstBlank == 0:
		sc.firstBlank = ln
	}
}

// headerName is the current value as a column name: trimmed, decoded from
// latin-1 if need be, and named as DuckDB would when empty.
func (sc *csvScan) headerName(i int) string {
	v := sc.cur
	if sc.d.encoding == "latin-1" {
		rs := make([]rune, len(v))
		for k, b := range v {
			rs[k] = rune(b)
		}
		v = []byte(string(rs))
	}
	name := strings.TrimSpace(string(v))
	if name == "" {
		name = fmt.Sprintf("column%d", i)
	}
	return name
}

// record checks one record of n fields that starts on line ln.
func (sc *csvScan) record(ln, n int) {
	switch {
	case sc.want == 0 && sc.d.header:
		sc.want, sc.header, sc.collect = n, sc.names, false
		first := map[string]int{}
		for i, name := range sc.header {
			k := strings.ToLower(name)
			if j, dup := first[k]; dup {
				sc.problem(ln, "duplicate column %q in the header (fields %d and %d)", name, j+1, i+1)
				continue
			}
			first[k] = i
		}
	case sc.want == 0:
		sc.want, sc.rows = n, 1
		if n < sc.ncols {
			sc.problem(ln, "%d fields, but csv.header is false and the bronze table has %d columns, matched by position", n, sc.ncols)
		}
	default:
		sc.rows++
		if n != sc.want {
			if sc.d.header {
				sc.problem(ln, "%d fields, the header has %d", n, sc.want)
			} else {
				sc.problem(ln, "%d fields, the first row has %d", n, sc.want)
			}
		}
	}
}

// end closes the file after its last line ln.
func (sc *csvScan) end(ln int) {
	switch {
	case sc.inRecord && sc.st == quoted:
		sc.problem(sc.quoteLine, "unterminated quote: the quoted field that opens on this line runs to the end of the file")
	case sc.inRecord:
		sc.endRecord()
	}
	switch {
	case sc.want == 1 && sc.firstBlank > 0:
		sc.problem(sc.firstBlank, "blank line in a one-column file: DuckDB would read it as a row of NULL; remove it")
	case sc.want == 0 && !sc.d.header && sc.firstBlank > 0:
		// Nothing but blank lines (found by FuzzImportCSV).
		sc.problem(sc.firstBlank, "blank lines only: DuckDB would read a row of NULL; an empty extract is an empty file")
	}
	if sc.want == 0 && sc.d.header {
		if sc.d.skip == 0 {
			sc.problem(1, "no header row: the file is empty")
		} else {
			sc.problem(max(ln, sc.d.skip+1), "no header row after the %d skipped line(s)", sc.d.skip)
		}
	}
}

// columnNames are the names DuckDB gives the file's columns: the header's, or
// with header: false the bronze columns by position (extra fields columnN).
func (sc *csvScan) columnNames(specCols []spec.Column) []string {
	if sc.d.header {
		return sc.header
	}
	names := make([]string, max(sc.want, len(specCols)))
	for i := range names {
		if i < len(specCols) {
			names[i] = specCols[i].Name
		} else {
			names[i] = fmt.Sprintf("column%d", i)
		}
	}
	return names
}
