package docgen

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestDocsUpToDate regenerates the reference into a temporary directory and
// compares it with the committed docs/reference and docs/man.
func TestDocsUpToDate(t *testing.T) {
	tmp := t.TempDir()
	ref, man := filepath.Join(tmp, "reference"), filepath.Join(tmp, "man")
	if err := Generate(Root(), ref, man); err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, d := range []struct{ got, want string }{
		{ref, filepath.Join("..", "..", "docs", "reference")},
		{man, filepath.Join("..", "..", "docs", "man")},
	} {
		stale = append(stale, diffDirs(t, d.got, d.want)...)
	}
	if len(stale) > 0 {
		t.Fatalf("the generated CLI reference is stale: run `make docs` and commit the result.\n%s",
			strings.Join(stale, "\n"))
	}
}

// TestGenerateIsStable guards the staleness check itself: two runs must
// produce the same bytes (no dates, no host names, no map order).
func TestGenerateIsStable(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := Generate(Root(), filepath.Join(d, "reference"), filepath.Join(d, "man")); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"reference", "man"} {
		if diff := diffDirs(t, filepath.Join(a, sub), filepath.Join(b, sub)); len(diff) > 0 {
			t.Fatalf("two runs differ:\n%s", strings.Join(diff, "\n"))
		}
	}
	if _, err := os.Stat(filepath.Join(a, "reference", "movitera.md")); err != nil {
		t.Fatalf("no root page: %v", err)
	}
	if _, err := os.Stat(filepath.Join(a, "man", "movitera.1")); err != nil {
		t.Fatalf("no root man page: %v", err)
	}
}

// diffDirs lists, one per line, the files that differ between the freshly
// generated directory got and the committed directory want.
func diffDirs(t *testing.T, got, want string) []string {
	t.Helper()
	g, w := readDir(t, got), readDir(t, want)
	names := map[string]bool{}
	for n := range g {
		names[n] = true
	}
	for n := range w {
		names[n] = true
	}
	var out []string
	for n := range names {
		gb, inGot := g[n]
		wb, inWant := w[n]
		switch {
		case !inWant:
			out = append(out, "  missing: "+filepath.Join(want, n))
		case !inGot:
			out = append(out, "  no longer generated: "+filepath.Join(want, n))
		case !bytes.Equal(gb, wb):
			out = append(out, "  out of date: "+filepath.Join(want, n))
		}
	}
	sort.Strings(out)
	return out
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return files
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}
