package tokenview

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/movitera/movitera/internal/safetext"
)

// nameMin is the narrowest the NAME column is cut to before optional
// columns are left out: room for "meu macbook…".
const nameMin = 12

// dropOrder lists the optional columns (indexes in Columns) in the order a
// narrow terminal leaves them out, the least useful during an incident
// first:
//
//   - TYPE: the prefix already says it (mvs_ SDK, mvc_ CLI, mve_
//     Extension…), and --type filters by it;
//   - PREFIX: someone holding a leaked prefix or secret revokes with it
//     directly (tokens revoke PREFIX, --secret-stdin), and is shown the
//     token before it goes;
//   - LAST USED: kept longest, as it tells which token was used after a
//     leak (docs/incident-response.md).
//
// ID (what revoke takes), NAME and EXPIRES (the state) are never left out.
var dropOrder = []int{colType, colPrefix, colLastUse}

// ellipsis ends a name that was cut.
const ellipsis = "…"

// layout is what a table shows: its columns (indexes in Columns, in order)
// and the widest NAME allowed, in cells (0: no limit).
type layout struct {
	cols    []int
	nameMax int
}

var allColumns = []int{colID, colName, colType, colPrefix, colLastUse, colExpiry}

// fit lays rows out for a terminal width cells wide (0: unknown, nothing
// is cut). When the table is wider, NAME is cut down to nameMin; if that
// is not enough, the columns of dropOrder are left out one by one, NAME
// taking back up to its full width the room each frees; with all of them
// gone, NAME is cut further, down to its header's width, if that makes
// the table fit. Narrower still (about 46 cells: ID, four cells of NAME,
// EXPIRES), lines stay wider than the terminal rather than lose ID or
// EXPIRES, and as they wrap anyway NAME keeps nameMin cells.
func fit(rows []Row, width int) layout {
	if width <= 0 {
		return layout{cols: allColumns}
	}
	w := naturalWidths(rows)
	cols := allColumns
	for next := 0; ; next++ {
		room := width - len(columnGutter)*(len(cols)-1)
		for _, c := range cols {
			if c != colName {
				room -= w[c]
			}
		}
		switch {
		case room >= w[colName]:
			return layout{cols: cols}
		case room >= nameMin:
			return layout{cols: cols, nameMax: room}
		case next == len(dropOrder) && room >= cellWidth(Columns[colName]):
			return layout{cols: cols, nameMax: room}
		case next == len(dropOrder):
			return layout{cols: cols, nameMax: nameMin}
		}
		drop := dropOrder[next]
		cols = slices.DeleteFunc(slices.Clone(cols), func(c int) bool { return c == drop })
	}
}

// naturalWidths is the width of every column uncut: its widest cell or
// header.
func naturalWidths(rows []Row) [numColumns]int {
	var w [numColumns]int
	for c, h := range Columns {
		w[c] = cellWidth(h)
	}
	for _, r := range rows {
		for c := range w {
			w[c] = max(w[c], cellWidth(r.cell(c)))
		}
	}
	return w
}

// cellWidth is the width of a clean cell in terminal cells, measured as
// the table measures it (twwidth.Width: CJK and emoji count two). ASCII,
// one cell a byte once cleaned, is counted without it.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return twwidth.Width(s)
		}
	}
	return len(s)
}

// truncate cuts a clean s to at most max cells, ending it with "…", when it
// is wider. It cuts between whole units only (see unit), so what is left
// shows nothing that the name does not hold.
func truncate(s string, max int) string {
	if cellWidth(s) <= max {
		return s
	}
	budget := max - cellWidth(ellipsis)
	cut, w := 0, 0
	for cut < len(s) {
		n, uw := unit(s[cut:])
		if w+uw > budget {
			break
		}
		cut, w = cut+n, w+uw
	}
	return s[:cut] + ellipsis
}

// unit is the length in bytes and the width in cells of the first piece
// of s that a cut must not split: one of safetext's escapes (\x1b, \u202e),
// or a character with what joins it (combining marks, variation
// selectors, emoji modifiers and tags, a zero-width joiner and the
// character after it, the second half of a flag). Its width counts every
// character that is not a mark: never less than the terminal shows.
func unit(s string) (n, width int) {
	if n := safetext.EscapeLen(s); n > 0 {
		return n, n
	}
	r, n := utf8.DecodeRuneInString(s)
	width = runeWidth(r)
	prev := r
	for n < len(s) {
		c, size := utf8.DecodeRuneInString(s[n:])
		switch {
		case isExtend(c):
		case prev == '\u200d', isRegional(r) && isRegional(c) && n == utf8.RuneLen(r):
			width += runeWidth(c)
		default:
			return n, width
		}
		n, prev = n+size, c
	}
	return n, width
}

// isExtend reports whether c belongs to the character before it.
func isExtend(c rune) bool {
	return unicode.In(c, unicode.Mn, unicode.Me, unicode.Mc) ||
		c == '\u200c' || c == '\u200d' || // zero-width non-joiner and joiner
		(c >= 0x1f3fb && c <= 0x1f3ff) || // emoji skin-tone modifiers
		(c >= 0xe0020 && c <= 0xe007f) // emoji tags (subdivision flags)
}

// isRegional reports whether r is a regional indicator: two make a flag.
func isRegional(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

// runeWidth is one character's width, as cellWidth measures it.
func runeWidth(r rune) int {
	if r < utf8.RuneSelf {
		return 1
	}
	return cellWidth(string(r))
}
