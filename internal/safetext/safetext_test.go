package safetext

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	cases := map[string]string{
		"meu macbook · cli":              "meu macbook · cli",
		"evil\x1b[31mred\x1b[0m":         `evil\x1b[31mred\x1b[0m`,
		"title\x1b]0;pwned\a":            `title\x1b]0;pwned\a`,
		"line\nbreak\ttab\rcr":           `line\nbreak\ttab\rcr`,
		"nul\x00del\x7f":                 `nul\x00del\x7f`,
		"c1\u009b31m":                    `c1\u009b31m`,
		"bidi\u202egnp.exe":              `bidi\u202egnp.exe`,
		"iso\u2066x\u2069":               `iso\u2066x\u2069`,
		"zero\u200bwidth\ufeff":          `zero\u200bwidth\ufeff`,
		"bad\xffutf8":                    `bad\xffutf8`,
		"東京 · sdk":                       "東京 · sdk",
		"🔑 deploy":                       "🔑 deploy",
		"family 👨\u200d👩\u200d👧 ❤\ufe0f": "family 👨\u200d👩\u200d👧 ❤\ufe0f",
		`back\slash`:                     `back\slash`,
		"":                               "",
	}
	for in, want := range cases {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
		if IsClean(in) != (in == want) {
			t.Errorf("IsClean(%q) = %v", in, IsClean(in))
		}
	}
}

func TestHasControl(t *testing.T) {
	for s, want := range map[string]bool{"ok · cli": false, "a\x1bb": true, "a\u0085": true, "東京": false, "a\tb": true, "bidi\u202e": true, "sep\u2028": true, "zw\u200b": false} {
		if got := HasControl(s); got != want {
			t.Errorf("HasControl(%q) = %v", s, got)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"plain", "evil\x1b[31m", "\u202e", "\xff\xfe", "東京🔑", "\u009b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Clean(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || needsEscape(r) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, out, r)
			}
		}
		if !IsClean(out) || Clean(out) != out {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
		if IsClean(s) && out != s {
			t.Fatalf("clean text %q changed to %q", s, out)
		}
		if strings.ContainsRune(out, 0x1b) {
			t.Fatal("ESC kept")
		}
	})
}

func TestError(t *testing.T) {
	base := errors.New("server says \x1b[2Jhi\nsecond line\u202e")
	err := Error(base)
	if err.Error() != `server says \x1b[2Jhi`+"\n"+`second line\u202e` || !errors.Is(err, base) {
		t.Fatalf("got %q", err)
	}
	if Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
}

func TestEscapeLen(t *testing.T) {
	for s, want := range map[string]int{
		`\x1b[31m`: 4, `\u202e!`: 6, `\n`: 2, `\tab`: 2, `\x1`: 0, `\xZZ`: 0, `\u20`: 0, `\u202E`: 0,
		`\q`: 0, `\`: 0, `x\n`: 0, "": 0, "東": 0,
	} {
		if got := EscapeLen(s); got != want {
			t.Errorf("EscapeLen(%q) = %d, want %d", s, got, want)
		}
	}
	// Every escape Clean writes is one whole escape.
	for _, in := range []string{"\x1b", "\a", "\x00", "\x7f", "\u009b", "\u202e", "\ufeff", "\xff"} {
		if out := Clean(in); EscapeLen(out) != len(out) {
			t.Errorf("EscapeLen(Clean(%q) = %q) = %d, want %d", in, out, EscapeLen(out), len(out))
		}
	}
}
