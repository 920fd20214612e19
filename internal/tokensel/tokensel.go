// Package tokensel resolves what a person typed to name tokens (an id, the
// start of an id, the secret's display prefix, or a name) against a team's
// token list. Resolution is all or nothing: one unknown or ambiguous
// argument fails the whole selection, so that a revoke never acts on a
// guess or on part of what was asked.
package tokensel

import (
	"fmt"
	"strings"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/safetext"
)

// minBareIDPrefix is the shortest id start accepted without "tok_": a
// shorter one would look like a word. With "tok_" one character is enough;
// an ambiguous start is refused anyway.
const minBareIDPrefix = 4

// Problem is one argument that did not resolve to exactly one token.
type Problem struct {
	Arg        string
	Candidates []movitera.Token // empty: nothing matched
	Secret     bool             // the argument is a whole secret
}

// Error lists every argument that did not resolve.
type Error struct {
	Team     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		arg := safetext.Clean(p.Arg)
		switch {
		case p.Secret:
			fmt.Fprintf(&b, "%s… looks like a secret, not an id: pass a secret on stdin with --secret-stdin, so that it stays out of your shell history", secretShown(p.Arg))
		case len(p.Candidates) == 0:
			fmt.Fprintf(&b, "no token in team %s matches \"%s\" (an id, the start of an id, a prefix such as mvs_AbCdEfGh, or a name)", e.Team, arg)
		default:
			fmt.Fprintf(&b, "\"%s\" matches %d tokens in team %s; name the one you mean by its id:", arg, len(p.Candidates), e.Team)
			for _, t := range p.Candidates {
				fmt.Fprintf(&b, "\n  %s  %s  %s  %s", t.ID, safetext.Clean(t.Name), t.Prefix, t.ClientType.Label())
			}
		}
	}
	b.WriteString("\nnothing was revoked; 'movitera tokens list' shows the team's tokens")
	return b.String()
}

// secretShown is what may be shown of a secret-like argument: the public
// prefix of a well-formed secret, only the type tag of anything else.
func secretShown(a string) string {
	if _, err := movitera.ParseSecret(a); err == nil {
		return movitera.DisplayPrefix(a)
	}
	return a[:4]
}

// Resolve maps every argument to exactly one token of tokens. An argument
// matches a token by exact id, exact display prefix (mvs_AbCdEfGh), exact
// name (as stored, or as the list prints it), or as the start of an id
// ("tok_3f9a", "3f9a"). All matches are pooled: if an argument matches
// more than one token, in any of these ways, it is ambiguous. The result
// keeps the arguments' order, without duplicates.
func Resolve(tokens []movitera.Token, team string, args []string) ([]movitera.Token, error) {
	var out []movitera.Token
	seen := map[string]bool{}
	var problems []Problem
	for _, arg := range args {
		a := strings.TrimSpace(arg)
		if movitera.LooksLikeSecret(a) {
			problems = append(problems, Problem{Arg: a, Secret: true})
			continue
		}
		m := matches(tokens, a)
		if len(m) != 1 {
			problems = append(problems, Problem{Arg: a, Candidates: m})
			continue
		}
		if !seen[m[0].ID] {
			seen[m[0].ID] = true
			out = append(out, m[0])
		}
	}
	if len(problems) > 0 {
		return nil, &Error{Team: team, Problems: problems}
	}
	return out, nil
}

// matches returns the tokens an argument names. An exact id wins alone.
func matches(tokens []movitera.Token, a string) []movitera.Token {
	if a == "" {
		return nil
	}
	for _, t := range tokens {
		if t.ID == a {
			return []movitera.Token{t}
		}
	}
	idStart := ""
	switch {
	case strings.HasPrefix(a, "tok_") && len(a) > len("tok_"):
		idStart = a
	case !strings.HasPrefix(a, "tok_") && len(a) >= minBareIDPrefix && isLowerHex(a):
		idStart = "tok_" + a
	}
	var m []movitera.Token
	for _, t := range tokens {
		if t.Name == a || safetext.Clean(t.Name) == a || t.Prefix == a ||
			(idStart != "" && strings.HasPrefix(t.ID, idStart)) {
			m = append(m, t)
		}
	}
	return m
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
