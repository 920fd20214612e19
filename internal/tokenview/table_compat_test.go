package tokenview

import (
	"bufio"
	"bytes"
	"io"
	"math/rand"
	"testing"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// The table used to be drawn by tablewriter; writeAligned must draw it byte
// for byte the same. oldGrid is the former tablewriter code, kept as the
// reference.

func oldNewTable(w io.Writer) *tablewriter.Table {
	cell := tw.CellConfig{
		Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone, AutoFormat: tw.Off},
		Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
		Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: columnGutter, Overwrite: true}},
	}
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone, Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		tablewriter.WithConfig(tablewriter.Config{Header: cell, Row: cell, Behavior: tw.Behavior{TrimSpace: tw.Off}}),
	)
}

func oldGrid(w io.Writer, header []string, rows [][]string) error {
	bw := &trimWriter{w: bufio.NewWriter(w)}
	t := oldNewTable(bw)
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

// TestAlignedMatchesTablewriter draws random tables (ASCII, CJK, emoji,
// ambiguous-width and combining characters, coloured cells) both ways.
// Under a CJK locale on a plain terminal it checks the East Asian rules too.
func TestAlignedMatchesTablewriter(t *testing.T) {
	parts := []string{"a", "bc", "tok_0123", " · ", "東京", "🔑", "é", "x y", "Expires in 7 days", "-", "ß", "ｱ", "Ω", "→", "✓"}
	rng := rand.New(rand.NewSource(1))
	cell := func() string {
		s := ""
		for n := rng.Intn(4); n > 0; n-- {
			s += parts[rng.Intn(len(parts))]
		}
		if s == "" {
			s = "z"
		}
		if rng.Intn(3) == 0 {
			s = []string{sgrStrike, sgrRed, sgrYellowB, sgrBold}[rng.Intn(4)] + s + sgrReset
		}
		return s
	}
	for iter := 0; iter < 400; iter++ {
		cols := 1 + rng.Intn(5)
		header := make([]string, cols)
		for i := range header {
			header[i] = cell()
		}
		var rows [][]string
		for r := rng.Intn(5); r >= 0; r-- {
			row := make([]string, cols)
			for i := range row {
				row[i] = cell()
			}
			rows = append(rows, row)
		}
		var a, b bytes.Buffer
		oldGrid(&a, header, rows)
		writeAligned(&b, header, rows)
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("iter %d\nold:\n%q\nnew:\n%q", iter, a.String(), b.String())
		}
	}
}
