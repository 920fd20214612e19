package tokenview

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// now is the fixed clock of the golden files: late evening in UTC, which
// is already the next day in Auckland and still the same day in Los
// Angeles, so that a local-time mistake would show.
var now = time.Date(2026, 12, 3, 23, 30, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { v := now.Add(d); return &v }

const day = 24 * time.Hour

// fixture covers every state of the seed and the names that are hard to
// print: wide characters, emoji, and escape sequences.
func fixture() []movitera.Token {
	return []movitera.Token{
		{ID: "tok_00000000000000a1", Name: "meu macbook · cli", ClientType: movitera.TypeCLI, Prefix: "mvc_AbCdEfGh", CreatedAt: now.Add(-day), LastUsedAt: at(-5 * time.Minute), ExpiresAt: at(89*day + time.Hour)},
		{ID: "tok_00000000000000a2", Name: "ci · sdk", ClientType: movitera.TypeSDK, Prefix: "mvs_0123abcd", CreatedAt: now.Add(-80 * day), ExpiresAt: at(7 * day)},
		{ID: "tok_00000000000000a3", Name: "東京オフィス · sdk", ClientType: movitera.TypeSDK, Prefix: "mvs_Tokyo123", CreatedAt: now.Add(-3 * day), LastUsedAt: at(-26 * time.Hour), ExpiresAt: at(2*day + time.Minute)},
		{ID: "tok_00000000000000a4", Name: "🔑 deploy bot", ClientType: movitera.TypeOther, Prefix: "mvo_Key12345", CreatedAt: now.Add(-100 * day)},
		{ID: "tok_00000000000000a5", Name: "evil\x1b[31m red\x1b]0;title\a\u202e", ClientType: movitera.TypeExtension, Prefix: "mve_Evil1234", CreatedAt: now.Add(-10 * day), ExpiresAt: at(30 * day)},
		{ID: "tok_00000000000000a6", Name: "old laptop · cli", ClientType: movitera.TypeCLI, Prefix: "mvc_Old12345", CreatedAt: now.Add(-200 * day), LastUsedAt: at(-100 * day), ExpiresAt: at(-10 * day)},
		{ID: "tok_00000000000000a7", Name: "leaked · sdk", ClientType: movitera.TypeSDK, Prefix: "mvs_Leak1234", CreatedAt: now.Add(-20 * day), LastUsedAt: at(-2 * time.Hour), ExpiresAt: at(60 * day), RevokedAt: at(-time.Hour)},
		{ID: "tok_00000000000000a8", Name: "link · agent", ClientType: movitera.TypeAgent, Prefix: "mva_Link1234", CreatedAt: now.Add(-2 * day), ExpiresAt: at(day - time.Second)},
	}
}

func rows(ts []movitera.Token) []Row {
	out := make([]Row, len(ts))
	for i, t := range ts {
		out[i] = NewRow(t, now)
	}
	return out
}

// inZones runs f with time.Local set to each of the zones of the issue,
// so that any use of local time in the rendering changes the output.
func inZones(t *testing.T, f func(t *testing.T)) {
	saved := time.Local
	t.Cleanup(func() { time.Local = saved })
	for _, name := range []string{"Pacific/Auckland", "America/Los_Angeles"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatalf("tzdata: %v", err)
		}
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			time.Local = loc
			f(t)
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGoldenTables: the table with no width known, and on terminals wide
// enough for it (the fixture is 118 cells wide), is the same, uncut.
func TestGoldenTables(t *testing.T) {
	inZones(t, func(t *testing.T) {
		for _, c := range []struct {
			file string
			mode Mode
		}{
			{"list-terminal-color.golden", Color},
			{"list-terminal-nocolor.golden", Plain},
			{"list-pipe.golden", Pipe},
		} {
			for _, width := range []int{0, 200, 118} {
				var b bytes.Buffer
				if err := Write(&b, rows(fixture()), c.mode, width); err != nil {
					t.Fatal(err)
				}
				golden(t, c.file, b.Bytes())
				if c.mode != Color && bytes.ContainsRune(b.Bytes(), 0x1b) {
					t.Errorf("%s: escape sequence without colour", c.file)
				}
			}
		}
	})
}

func TestGoldenJSON(t *testing.T) {
	inZones(t, func(t *testing.T) {
		var b bytes.Buffer
		a := NewArrayWriter(&b)
		for _, tok := range fixture() {
			if err := a.Add(NewJSON(tok, now)); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		golden(t, "list.json.golden", b.Bytes())
		var back []map[string]any
		if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back) != len(fixture()) {
			t.Fatalf("not a JSON array of %d: %v", len(fixture()), err)
		}
	})
}

func TestEmptyJSONArray(t *testing.T) {
	var b bytes.Buffer
	a := NewArrayWriter(&b)
	if err := a.Close(); err != nil || b.String() != "[]\n" {
		t.Fatalf("got %q, %v", b.String(), err)
	}
}

// TestColumnsAlign checks that every column starts at the same terminal
// cell on every line, wide characters included.
func TestColumnsAlign(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, rows(fixture()), false, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	// The PREFIX column holds ASCII only: its display column must match the header's.
	want := cellColumn(lines[0], "PREFIX")
	for i, tok := range fixture() {
		if got := cellColumn(lines[i+1], tok.Prefix); got != want {
			t.Errorf("line %d: prefix at cell %d, header at %d:\n%s", i+1, got, want, b.String())
		}
	}
}

// cellColumn is the terminal cell where sub starts in line.
func cellColumn(line, sub string) int {
	i := strings.Index(line, sub)
	if i < 0 {
		return -1
	}
	w := 0
	for _, r := range line[:i] {
		w += runeCells(r)
	}
	return w
}

func runeCells(r rune) int {
	switch {
	case r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) || (r >= 0xf900 && r <= 0xfaff) || (r >= 0xff00 && r <= 0xff60) || (r >= 0x1f300 && r <= 0x1faff)):
		return 2
	}
	return 1
}

// benchTokens returns n active SDK tokens with expiries spread over a year.
func benchTokens(n int) []movitera.Token {
	toks := make([]movitera.Token, n)
	for i := range toks {
		toks[i] = movitera.Token{ID: fmt.Sprintf("tok_%016x", i), Name: fmt.Sprintf("runner %d · sdk", i), ClientType: movitera.TypeSDK, Prefix: "mvs_AbCdEfGh", CreatedAt: now, ExpiresAt: at(time.Duration(i%365) * day)}
	}
	return toks
}

func BenchmarkWriteTable10000(b *testing.B) {
	toks := benchTokens(10000)
	b.ReportAllocs()
	for b.Loop() {
		rs := rows(toks)
		if err := WriteTable(&bytes.Buffer{}, rs, true, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteTable10000Width70 is the same table fitted to a 70-column
// terminal: every cell measured, TYPE and PREFIX left out, every name cut.
func BenchmarkWriteTable10000Width70(b *testing.B) {
	toks := benchTokens(10000)
	b.ReportAllocs()
	for b.Loop() {
		rs := rows(toks)
		if err := WriteTable(&bytes.Buffer{}, rs, true, 70); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTSV10000(b *testing.B) {
	toks := benchTokens(10000)
	b.ReportAllocs()
	for b.Loop() {
		rs := rows(toks)
		if err := WriteTSV(&bytes.Buffer{}, rs); err != nil {
			b.Fatal(err)
		}
	}
}
