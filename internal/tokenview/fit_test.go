package tokenview

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/movitera/movitera/internal/movitera"
)

// longFixture is fixture with names longer than a terminal: CJK, emoji
// (an emoji sequence with a joiner among them), a combining accent, and
// the escapes of the hostile name; the revoked token's too.
func longFixture() []movitera.Token {
	ts := fixture()
	ts[0].Name = "meu macbook pro do trabalho · cli"
	ts[2].Name = "東京オフィスの本番環境デプロイ用トークン · sdk"
	ts[3].Name = "🔑🚀 deploy bot of the staging cluster"
	ts[5].Name = "👩\u200d💻 cafe\u0301 laptop of the on-call engineer · cli"
	ts[6].Name = "leaked key of the payments service · sdk"
	return ts
}

// For longFixture: the narrowest table (ID, NAME at its header's width,
// EXPIRES), and the width of its lines on a terminal narrower than that,
// where NAME keeps nameMin cells.
const (
	minWidth      = 20 + 2 + 4 + 2 + 18
	overflowWidth = 20 + 2 + nameMin + 2 + 18
)

// limit is the widest a line may be on a terminal width cells wide.
func limit(width int) int {
	if width < minWidth {
		return overflowWidth
	}
	return width
}

// TestFitGolden: the table fitted to terminals of several widths, exactly,
// with every line within the width; below minWidth, where nothing fits,
// every line is as narrow as ID, EXPIRES and NAME at nameMin.
func TestFitGolden(t *testing.T) {
	for _, width := range []int{200, 100, 80, 60, 50, 46, 40} {
		for _, mode := range []Mode{Color, Plain} {
			name := map[Mode]string{Color: "color", Plain: "nocolor"}[mode]
			file := fmt.Sprintf("fit-%d-%s.golden", width, name)
			var b bytes.Buffer
			if err := Write(&b, rows(longFixture()), mode, width); err != nil {
				t.Fatal(err)
			}
			golden(t, file, b.Bytes())
			if mode == Plain && bytes.ContainsRune(b.Bytes(), 0x1b) {
				t.Errorf("%s: escape sequence without colour", file)
			}
			for _, line := range lines(b.String()) {
				if w := twwidth.Width(line); w > limit(width) {
					t.Errorf("%s: a line is %d cells wide, over %d: %q", file, w, limit(width), line)
				}
			}
		}
	}
}

// TestFitEveryWidth checks, at every width from 30 to 200 cells: lines
// fit (or are as narrow as they can be), ID, NAME and EXPIRES are always
// there, columns go in dropOrder, names are whole or cut with "…" at a
// unit boundary, and a table that fits is the uncut one.
func TestFitEveryWidth(t *testing.T) {
	rs := rows(longFixture())
	var full bytes.Buffer
	if err := WriteTable(&full, rs, false, 0); err != nil {
		t.Fatal(err)
	}
	fullWidth := 0
	for _, line := range lines(full.String()) {
		fullWidth = max(fullWidth, twwidth.Width(line))
	}
	for width := 30; width <= 200; width++ {
		var b bytes.Buffer
		if err := WriteTable(&b, rs, false, width); err != nil {
			t.Fatal(err)
		}
		ls := lines(b.String())
		for _, line := range ls {
			if w := twwidth.Width(line); w > limit(width) {
				t.Fatalf("width %d: a line is %d cells wide: %q", width, w, line)
			}
		}
		if width >= fullWidth && b.String() != full.String() {
			t.Fatalf("width %d: the table fits, yet it was changed:\n%s", width, b.String())
		}
		header := strings.Fields(strings.ReplaceAll(ls[0], "LAST USED", "LAST_USED"))
		if header[0] != "ID" || header[1] != "NAME" || header[len(header)-1] != "EXPIRES" {
			t.Fatalf("width %d: header %q", width, ls[0])
		}
		dropped := 0
		for _, c := range dropOrder {
			if !slices.Contains(header, strings.ReplaceAll(Columns[c], " ", "_")) {
				dropped++
			} else if dropped < len(dropOrder) && !slices.Contains(header, strings.ReplaceAll(Columns[dropOrder[dropped]], " ", "_")) {
				t.Fatalf("width %d: columns not left out in dropOrder: %q", width, ls[0])
			}
		}
		for i, r := range rs {
			checkCut(t, width, r.Name, ls[i+1])
		}
	}
}

// checkCut checks that line shows name whole, or its start up to a unit
// boundary followed by "…".
func checkCut(t *testing.T, width int, name, line string) {
	t.Helper()
	if strings.Contains(line, name) {
		return
	}
	i := strings.Index(line, ellipsis)
	if i < 0 {
		t.Fatalf("width %d: %q neither whole nor cut in %q", width, name, line)
	}
	start := strings.Index(line, "  ") + 2 // after ID and its gutter
	kept := line[start:i]
	if !strings.HasPrefix(name, kept) || !slices.Contains(boundaries(name), len(kept)) {
		t.Fatalf("width %d: %q cut as %q, not at a unit boundary", width, name, kept)
	}
}

// boundaries are the byte offsets between the units of s.
func boundaries(s string) []int {
	b := []int{0}
	for i := 0; i < len(s); {
		n, _ := unit(s[i:])
		i += n
		b = append(b, i)
	}
	return b
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"meu macbook · cli", 12, "meu macbook…"},
		{"meu macbook · cli", 17, "meu macbook · cli"},
		{"meu macbook · cli", 16, "meu macbook · c…"},
		{"東京オフィス · sdk", 6, "東京…"},          // オ would need 6 cells, one over
		{"東京オフィス · sdk", 7, "東京オ…"},         // 2+2+2+1
		{"🔑 deploy bot", 4, "🔑 …"},          // the emoji is two cells
		{"🔑 deploy bot", 2, "…"},            // not even the emoji fits
		{"👩\u200d💻 laptop", 5, "👩\u200d💻…"}, // the joined sequence stays whole
		{"👩\u200d💻 laptop", 4, "…"},
		{"cafe\u0301 au lait", 5, "cafe\u0301…"}, // the accent stays with its e
		{"ééééé", 3, "éé…"},
		{"🇯🇵🇯🇵 tokyo", 4, "🇯🇵…"}, // a flag is two regional indicators
		{`evil\x1b[31m red`, 7, "evil…"},
		{`evil\x1b[31m red`, 8, "evil…"}, // \x1b whole or not at all
		{`evil\x1b[31m red`, 9, `evil\x1b…`},
		{`bidi\u202e`, 9, `bidi…`},
		{"exactly12chr", 12, "exactly12chr"},
		{"", 4, ""},
	} {
		got := truncate(c.in, c.max)
		if got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
		if w := cellWidth(got); w > c.max {
			t.Errorf("truncate(%q, %d) = %q is %d cells wide", c.in, c.max, got, w)
		}
	}
}

// TestTruncateNeverSplits cuts a name holding every kind of unit to every
// width: valid UTF-8, within the width, the name's start at a unit
// boundary followed by "…".
func TestTruncateNeverSplits(t *testing.T) {
	name := `a東🔑👩` + "\u200d💻" + "e\u0301🇯🇵" + `\x1b[31m\u202e` + "👍🏽é·z"
	for max := 1; max <= cellWidth(name)+1; max++ {
		got := truncate(name, max)
		if !utf8.ValidString(got) || cellWidth(got) > max {
			t.Fatalf("truncate(%q, %d) = %q: invalid or %d cells wide", name, max, got, cellWidth(got))
		}
		if got == name {
			continue
		}
		kept, ok := strings.CutSuffix(got, ellipsis)
		if !ok || !strings.HasPrefix(name, kept) || !slices.Contains(boundaries(name), len(kept)) {
			t.Fatalf("truncate(%q, %d) = %q: not cut at a unit boundary", name, max, got)
		}
	}
}

// TestPipeIgnoresWidth: in a pipe, names and columns are whole at any
// width.
func TestPipeIgnoresWidth(t *testing.T) {
	for _, width := range []int{1, 10, 40} {
		var b bytes.Buffer
		if err := Write(&b, rows(fixture()), Pipe, width); err != nil {
			t.Fatal(err)
		}
		golden(t, "list-pipe.golden", b.Bytes())
		var long bytes.Buffer
		if err := Write(&long, rows(longFixture()), Pipe, width); err != nil {
			t.Fatal(err)
		}
		for i, tok := range longFixture() {
			if want := NewRow(tok, now).Name; strings.Split(lines(long.String())[i], "\t")[1] != want {
				t.Errorf("width %d: pipe line %d does not hold the whole name %q:\n%s", width, i, want, long.String())
			}
		}
	}
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
