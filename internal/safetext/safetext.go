// Package safetext neutralises text that came from the server (token names,
// error details) before it reaches a terminal, so that a name cannot move
// the cursor, recolour the screen, set the window title, hide itself or
// reverse the order of what follows.
//
// Every character that a terminal would interpret rather than print is
// replaced by a visible Go-style escape, so the person sees exactly what the
// text holds:
//
//   - C0 controls and DEL: \t \n \r and the like, others as \xNN (ESC is \x1b);
//   - C1 controls (U+0080–U+009F, CSI among them): \u009b;
//   - bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
//     U+2066–U+2069), the line and paragraph separators (U+2028, U+2029) and
//     invisible characters that make two names look alike (U+00AD, U+200B,
//     U+2060–U+2064, U+FEFF): \uNNNN;
//   - bytes that are not UTF-8: \xNN.
//
// Everything else is kept as is: CJK, accents, emoji, and the joiners and
// variation selectors that emoji sequences need (U+200C, U+200D, U+FE0F).
// A backslash is kept too, so the output is for reading, not for parsing:
// scripts use --json, whose strings are escaped by encoding/json.
package safetext

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Clean returns s with every control character, escape sequence
// introducer, bidirectional control and invisible character replaced by a
// visible escape. Clean(Clean(s)) == Clean(s).
func Clean(s string) string {
	if IsClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r < 0x20 || r == 0x7f:
			b.WriteString(c0Escape(byte(r)))
		case needsEscape(r):
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", max(0, 4-len(h))))
			b.WriteString(h)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// IsClean reports whether Clean would return s unchanged.
func IsClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || needsEscape(r) {
			return false
		}
		i += size
	}
	return true
}

// HasControl reports whether s holds a control character (C0, DEL, C1), a
// bidirectional control or a line or paragraph separator: what the vault
// refuses in a token name.
func HasControl(s string) bool {
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return true
		case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return true
		}
	}
	return false
}

// needsEscape reports whether a non-ASCII rune is neutralised.
func needsEscape(r rune) bool {
	switch {
	case r >= 0x80 && r < 0xa0: // C1 controls, CSI (U+009B) among them
		return true
	case r == 0x00ad, r == 0x061c, r == 0x200b, r == 0x200e, r == 0x200f, r == 0xfeff:
		return true
	case r >= 0x2028 && r <= 0x202e: // line/paragraph separators, bidi embeddings and overrides
		return true
	case r >= 0x2060 && r <= 0x2064, r >= 0x2066 && r <= 0x2069: // word joiner, invisible operators, bidi isolates
		return true
	}
	return false
}

func c0Escape(c byte) string {
	switch c {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	}
	return `\x` + hex2(c)
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// EscapeLen is the length in bytes of the escape of the kind Clean writes
// (\n, \x1b, \u202e) that s starts with, or 0. Whoever shortens cleaned
// text cuts before or after an escape, never inside one. A backslash that
// was in the text already and looks like an escape counts as one too.
func EscapeLen(s string) int {
	if len(s) < 2 || s[0] != '\\' {
		return 0
	}
	switch s[1] {
	case 'a', 'b', 'f', 'n', 'r', 't', 'v':
		return 2
	case 'x':
		if isHex(s, 4) {
			return 4
		}
	case 'u':
		if isHex(s, 6) {
			return 6
		}
	}
	return 0
}

// isHex reports whether s[2:end] is lower-case hexadecimal digits.
func isHex(s string, end int) bool {
	if len(s) < end {
		return false
	}
	for _, c := range []byte(s[2:end]) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Error wraps err so that its message is printed cleaned, line by line
// (a message may list several lines on purpose). errors.Is and errors.As
// still see err, so exit codes are unchanged.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return &cleanError{err: err}
}

type cleanError struct{ err error }

func (e *cleanError) Error() string {
	lines := strings.Split(e.err.Error(), "\n")
	for i, l := range lines {
		lines[i] = Clean(l)
	}
	return strings.Join(lines, "\n")
}

func (e *cleanError) Unwrap() error { return e.err }
