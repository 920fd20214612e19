package tokensel

import (
	"errors"
	"strings"
	"testing"

	"github.com/movitera/movitera/internal/movitera"
)

var tokens = []movitera.Token{
	{ID: "tok_3f9a000000000001", Name: "ci · sdk", Prefix: "mvs_AAAAAAAA", ClientType: movitera.TypeSDK},
	{ID: "tok_3f9a000000000002", Name: "ci · sdk", Prefix: "mvs_BBBBBBBB", ClientType: movitera.TypeSDK},
	{ID: "tok_77aa000000000003", Name: "deploy", Prefix: "mvo_CCCCCCCC", ClientType: movitera.TypeOther},
	{ID: "tok_88bb000000000004", Name: "evil\x1b[31m", Prefix: "mve_DDDDDDDD", ClientType: movitera.TypeExtension},
}

func ids(ts []movitera.Token) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.ID)
	}
	return strings.Join(s, ",")
}

func TestResolve(t *testing.T) {
	good := map[string][]string{
		"tok_3f9a000000000001,tok_77aa000000000003,tok_3f9a000000000002": {"tok_3f9a000000000001", "deploy", "mvs_BBBBBBBB"},
		"tok_77aa000000000003": {"tok_77aa", "77aa"},
		"tok_88bb000000000004": {`evil\x1b[31m`, "evil\x1b[31m", "88bb"},
		"tok_3f9a000000000001": {"tok_3f9a000000000001", "tok_3f9a000000000001"},
	}
	for want, args := range good {
		got, err := Resolve(tokens, "acme", args)
		if err != nil || ids(got) != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", args, ids(got), err, want)
		}
	}
	secret, _ := movitera.NewSecret(movitera.TypeSDK)
	bad := map[string]string{
		"ci · sdk":   `"ci · sdk" matches 2 tokens in team acme; name the one you mean by its id:`,
		"tok_3f9a":   `"tok_3f9a" matches 2 tokens`,
		"tok_3":      `"tok_3" matches 2 tokens`,
		"3f9":        `no token in team acme matches "3f9"`,
		"3f9a":       `"3f9a" matches 2 tokens`,
		"nope":       `no token in team acme matches "nope"`,
		"tok_":       `no token in team acme matches "tok_"`,
		secret:       secret[:12] + `… looks like a secret, not an id: pass a secret on stdin with --secret-stdin`,
		secret[:41]:  "mvs_… looks like a secret, not an id",
		secret + "x": "mvs_… looks like a secret, not an id",
	}
	for arg, want := range bad {
		got, err := Resolve(tokens, "acme", []string{"deploy", arg})
		var e *Error
		if got != nil || !errors.As(err, &e) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "nothing was revoked") {
			t.Errorf("Resolve(%q) = %s, %v; want error containing %q", arg, ids(got), err, want)
		}
		if strings.Contains(err.Error(), secret[:13]) {
			t.Errorf("the error repeats the whole secret")
		}
		if strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("escape sequence in error: %q", err)
		}
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"ci · sdk", "tok_3f9a", "3f9a", "deploy", "", "tok_", "mvs_AAAAAAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		got, err := Resolve(tokens, "acme", []string{arg})
		if err != nil {
			if got != nil {
				t.Fatal("partial result with an error")
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("%q resolved to %d tokens", arg, len(got))
		}
	})
}
