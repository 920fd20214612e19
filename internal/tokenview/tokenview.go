// Package tokenview renders access tokens for people and for programs: the
// table of "movitera tokens list" (a tablewriter table on a terminal,
// tab-separated lines in a pipe) and the JSON objects of --json.
//
// On a terminal with colour the seed's states are marked: "Expires in N
// days" in bold yellow when 7 days or fewer remain, "Expired" in red, and a
// revoked token's whole row struck through (SGR 9). Without colour (NO_COLOR,
// TERM=dumb) the same table carries no escape sequence at all. In a pipe the
// output is one token per line, the same six columns separated by a tab, no
// header: a stable shape for cut, awk and grep. Programs that need more use
// --json.
//
// On a terminal the table is fitted to its width (see fit): long names are
// cut with "…", then optional columns are left out. Pipes and --json are
// never cut.
//
// Every name is passed through safetext.Clean first (in NewRow), then cut
// to fit, then coloured: a table never carries an escape sequence that came
// from the server, and a cut never falls inside one.
package tokenview

import (
	"io"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/safetext"
)

// Columns are the table's headers, in order.
var Columns = []string{"ID", "NAME", "TYPE", "PREFIX", "LAST USED", "EXPIRES"}

// Indexes in Columns.
const (
	colID = iota
	colName
	colType
	colPrefix
	colLastUse
	colExpiry
	numColumns
)

// Row is one token as the list shows it, every field already safe to print.
type Row struct {
	ID, Name, Type, Prefix, LastUse, Expiry string
	State                                   movitera.State
	ExpiringSoon                            bool
}

// NewRow derives the displayed fields of a token at a moment.
func NewRow(t movitera.Token, now time.Time) Row {
	return Row{
		ID:           safetext.Clean(t.ID),
		Name:         safetext.Clean(t.Name),
		Type:         safetext.Clean(t.ClientType.Label()),
		Prefix:       safetext.Clean(t.Prefix),
		LastUse:      t.LastUseLabel(now),
		Expiry:       t.ExpiryLabel(now),
		State:        t.StateAt(now),
		ExpiringSoon: t.ExpiringSoon(now),
	}
}

func (r Row) cells() []string {
	return []string{r.ID, r.Name, r.Type, r.Prefix, r.LastUse, r.Expiry}
}

// cell is the text of column c (an index in Columns).
func (r Row) cell(c int) string {
	switch c {
	case colID:
		return r.ID
	case colName:
		return r.Name
	case colType:
		return r.Type
	case colPrefix:
		return r.Prefix
	case colLastUse:
		return r.LastUse
	}
	return r.Expiry
}

// Mode says where the list goes.
type Mode int

// The three ways a list is written.
const (
	// Pipe: tab-separated, no header, no escape sequence.
	Pipe Mode = iota
	// Plain: an aligned table for a terminal, without colour.
	Plain
	// Color: the aligned table with the states marked.
	Color
)

// ModeFor picks the mode from the terminal and colour decisions.
func ModeFor(stdoutTTY, color bool) Mode {
	switch {
	case !stdoutTTY:
		return Pipe
	case color:
		return Color
	}
	return Plain
}

// Write renders rows in a mode. A table is fitted to a terminal width
// cells wide; 0, an unknown width, cuts nothing. A pipe ignores width:
// scripts get every value whole.
func Write(w io.Writer, rows []Row, mode Mode, width int) error {
	if mode == Pipe {
		return WriteTSV(w, rows)
	}
	return WriteTable(w, rows, mode == Color, width)
}
