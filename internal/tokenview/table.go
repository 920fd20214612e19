package tokenview

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// SGR sequences used on a colour terminal.
const (
	sgrReset     = "\x1b[0m"
	sgrBold      = "\x1b[1m"
	sgrStrike    = "\x1b[9m"
	sgrYellowB   = "\x1b[1;33m"
	sgrRed       = "\x1b[31m"
	columnGutter = "  "
)

// NewTable returns a borderless tablewriter table in the style of gh and
// kubectl: left-aligned columns two spaces apart, no wrapping, widths
// measured in terminal cells (CJK and emoji count two) with escape
// sequences ignored.
func NewTable(w io.Writer) *tablewriter.Table {
	cell := tw.CellConfig{
		Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone, AutoFormat: tw.Off},
		Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
		Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: columnGutter, Overwrite: true}},
	}
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header:   cell,
			Row:      cell,
			Behavior: tw.Behavior{TrimSpace: tw.Off},
		}),
	)
}

// WriteTable writes the aligned table with a header, fitted to a terminal
// width cells wide (0: unknown, nothing is cut; see fit). With colour the
// states are marked; without, the output holds no escape sequence. Names
// are cut before they are coloured, so a cut never splits an escape.
func WriteTable(w io.Writer, rows []Row, color bool, width int) error {
	lay := fit(rows, width)
	bw := &trimWriter{w: bufio.NewWriterSize(w, 64<<10)}
	t := NewTable(bw)
	header := make([]any, len(lay.cols))
	for i, c := range lay.cols {
		h := Columns[c]
		if color {
			h = sgrBold + h + sgrReset
		}
		header[i] = h
	}
	t.Header(header...)
	for _, r := range rows {
		cells := make([]string, len(lay.cols))
		for i, c := range lay.cols {
			cells[i] = r.cell(c)
			if c == colName && lay.nameMax > 0 {
				cells[i] = truncate(cells[i], lay.nameMax)
			}
		}
		if color {
			cells = colorize(r, cells)
		}
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	return bw.Flush()
}

// colorize marks a row's state: the whole row struck through when revoked,
// the expiry (the last cell: EXPIRES is never left out) in red when
// expired, in bold yellow when 7 days or fewer remain.
func colorize(r Row, cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		switch {
		case r.State == "revoked":
			c = sgrStrike + c + sgrReset
		case i == len(cells)-1 && r.State == "expired":
			c = sgrRed + c + sgrReset
		case i == len(cells)-1 && r.ExpiringSoon:
			c = sgrYellowB + c + sgrReset
		}
		out[i] = c
	}
	return out
}

// WriteTSV writes one token per line, the table's columns separated by a
// tab, without header or escape sequences. Names were cleaned, so they
// hold no tab or newline.
func WriteTSV(w io.Writer, rows []Row) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, r := range rows {
		bw.WriteString(strings.Join(r.cells(), "\t"))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// trimWriter drops what the table leaves at the end of every line (the
// gutter's spaces and redundant resets), so that a line ends with its last
// character, closing any attribute with a single reset.
type trimWriter struct {
	w    *bufio.Writer
	line []byte
}

func (t *trimWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.line = append(t.line, p...)
			break
		}
		t.line = append(t.line, p[:i]...)
		t.flushLine(true)
		p = p[i+1:]
	}
	return n, nil
}

func (t *trimWriter) flushLine(newline bool) {
	line, reset := t.line, false
	for {
		if n := len(line); n > 0 && line[n-1] == ' ' {
			line = line[:n-1]
		} else if bytes.HasSuffix(line, []byte(sgrReset)) {
			line, reset = line[:len(line)-len(sgrReset)], true
		} else {
			break
		}
	}
	t.w.Write(line)
	if reset {
		t.w.WriteString(sgrReset)
	}
	if newline {
		t.w.WriteByte('\n')
	}
	t.line = t.line[:0]
}

// Flush writes an unfinished last line and flushes.
func (t *trimWriter) Flush() error {
	if len(t.line) > 0 {
		t.flushLine(false)
	}
	return t.w.Flush()
}

// WriteGrid writes any rows as the same borderless, aligned table, with a
// header, without colour. Cells must already be clean.
func WriteGrid(w io.Writer, header []string, rows [][]string) error {
	bw := &trimWriter{w: bufio.NewWriter(w)}
	t := NewTable(bw)
	h := make([]any, len(header))
	for i, c := range header {
		h[i] = c
	}
	t.Header(h...)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	return bw.Flush()
}
