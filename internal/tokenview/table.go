package tokenview

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/clipperhouse/displaywidth"
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

// The table is borderless, in the style of gh and kubectl: left-aligned
// columns two spaces apart, no wrapping, widths measured in terminal cells
// (CJK and emoji count two; ambiguous characters such as "·" too under a
// CJK locale, or with RUNEWIDTH_EASTASIAN=1) with escape sequences ignored.
// It is drawn here rather than by a table library: a list of 10,000 tokens
// takes milliseconds, and the binary starts without a library's set-up
// (see docs/performance.md).

// WriteTable writes the aligned table with a header. With colour the
// states are marked; without, the output holds no escape sequence.
func WriteTable(w io.Writer, rows []Row, color bool) error {
	header := make([]string, len(Columns))
	for i, c := range Columns {
		if color {
			c = sgrBold + c + sgrReset
		}
		header[i] = c
	}
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = r.cells()
		if color {
			cells[i] = colorize(r, cells[i])
		}
	}
	return writeAligned(w, header, cells)
}

// writeAligned pads every cell to its column's width and the gutter, and
// ends each line with its last character (closing any attribute with a
// single reset).
func writeAligned(w io.Writer, header []string, rows [][]string) error {
	wopts := displaywidth.Options{EastAsianWidth: eastAsian()}
	widths := make([]int, len(header))
	measure := func(line []string) []int {
		ws := make([]int, len(line))
		for i, c := range line {
			ws[i] = cellWidth(c, wopts)
			if i < len(widths) && ws[i] > widths[i] {
				widths[i] = ws[i]
			} else if i >= len(widths) {
				widths = append(widths, ws[i])
			}
		}
		return ws
	}
	hw := measure(header)
	rw := make([][]int, len(rows))
	for i, r := range rows {
		rw[i] = measure(r)
	}
	bw := &trimWriter{w: bufio.NewWriterSize(w, 64<<10)}
	var line []byte
	emit := func(cells []string, ws []int) {
		line = line[:0]
		for i, c := range cells {
			if i > 0 && strings.IndexByte(cells[i-1], 0x1b) >= 0 {
				line = append(line, sgrReset...) // as tablewriter did: nothing carries over
			}
			line = append(line, c...)
			for pad := widths[i] - ws[i] + len(columnGutter); pad > 0; pad-- {
				line = append(line, ' ')
			}
		}
		line = append(line, '\n')
		bw.Write(line)
	}
	emit(header, hw)
	for i, r := range rows {
		emit(r, rw[i])
	}
	return bw.Flush()
}

// cellWidth is the width of s in terminal cells, escape sequences (CSI,
// such as colours) ignored.
func cellWidth(s string, o displaywidth.Options) int {
	w := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
				i += 2
				for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
					i++ // parameters and intermediates
				}
				i++ // the final byte
				continue
			case c >= 0x20 && c < 0x7f:
				w++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		w += o.Rune(r)
		i += n
	}
	return w
}

// eastAsian reports whether ambiguous-width characters (such as "·") take
// two cells: as RUNEWIDTH_EASTASIAN says when set; else not on a terminal
// known to be modern (TERM_PROGRAM, VTE, an xterm, screen or tmux TERM);
// else under a CJK locale. (The rules tablewriter followed.)
func eastAsian() bool {
	switch strings.ToLower(os.Getenv("RUNEWIDTH_EASTASIAN")) {
	case "1", "on", "true", "yes":
		return true
	case "0", "off", "false", "no":
		return false
	}
	for _, k := range []string{"TERM_PROGRAM", "TERM_PROGRAM_WSL", "VTE_VERSION", "ALACRITTY_LOG", "WT_PROFILE_ID"} {
		if os.Getenv(k) != "" {
			return false
		}
	}
	term := strings.ToLower(os.Getenv("TERM"))
	if (strings.Contains(term, "xterm") && !strings.Contains(term, "xterm-mono")) ||
		strings.Contains(term, "screen") || strings.Contains(term, "tmux") || term == "wezterm" {
		return false
	}
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if loc = os.Getenv(k); loc != "" {
			break
		}
	}
	loc, _, _ = strings.Cut(strings.ToLower(loc), ".")
	if loc == "" || loc == "c" || loc == "posix" {
		return false
	}
	lang, region, _ := strings.Cut(strings.ReplaceAll(loc, "-", "_"), "_")
	switch lang {
	case "zh", "ja", "ko", "chi", "zho", "jpn", "kor", "chinese", "japanese", "korean":
		return true
	}
	switch region {
	case "cn", "tw", "hk", "mo", "jp", "kr", "kp", "sg":
		return true
	}
	return false
}

// colorize marks a row's state: the whole row struck through when revoked,
// the expiry in red when expired, in bold yellow when 7 days or fewer
// remain.
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
	return writeAligned(w, header, rows)
}
