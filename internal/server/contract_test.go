package server

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/movitera/movitera/internal/movitera"
)

// The server's answers are checked against docs/api.md, the contract the
// CLI's client is written from.

func apiDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section is the text from the heading that starts with title to the next
// heading of the same or a higher level.
func section(t *testing.T, doc, title string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+title)
	if i < 0 {
		t.Fatalf("docs/api.md has no section %q", title)
	}
	level := strings.Index(title, " ")
	rest := doc[i+1+len(title):]
	end := regexp.MustCompile(`\n#{1,` + strconv.Itoa(level) + `} `).FindStringIndex(rest)
	if end == nil {
		return rest
	}
	return rest[:end[0]]
}

// docKeys is the set of top-level JSON keys of the first code block (or
// inline JSON object) after marker in text. The doc's examples hold "…", so
// they are scanned, not parsed.
func docKeys(t *testing.T, text, marker string) []string {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("no %q in docs/api.md", marker)
	}
	block := text[i+len(marker):]
	if j := strings.Index(block, "```json"); j >= 0 && j < 10 {
		block = block[j+7:]
	}
	block = block[strings.Index(block, "{"):]
	var keys [][]string
	depth := 0
	for k := 0; k < len(block); k++ {
		switch c := block[k]; c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			end := k + 1 + strings.IndexByte(block[k+1:], '"')
			if depth == 1 && strings.HasPrefix(block[end+1:], ":") {
				keys = append(keys, []string{"", block[k+1 : end]})
			}
			k = end
		}
		if depth == 0 {
			break
		}
	}
	return keySet(keys)
}

// jsonKeys is the set of top-level keys v encodes to.
func jsonKeys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestProblemCodesMatchDoc(t *testing.T) {
	doc := apiDoc(t)
	rows := regexp.MustCompile("(?m)^\\| (\\d{3}) \\| `([a-z_]+)` \\|").FindAllStringSubmatch(section(t, doc, "## Problem codes"), -1)
	documented := map[string]int{}
	for _, r := range rows {
		documented[r[2]], _ = strconv.Atoi(r[1])
	}
	if len(documented) < 10 {
		t.Fatalf("parsed only %d problem codes from docs/api.md", len(documented))
	}
	if !reflect.DeepEqual(documented, problemStatus) {
		for code, status := range problemStatus {
			if documented[code] != status {
				t.Errorf("server emits %d %s; docs/api.md says %d", status, code, documented[code])
			}
		}
		for code := range documented {
			if _, ok := problemStatus[code]; !ok {
				t.Errorf("docs/api.md lists %s, which the server never emits", code)
			}
		}
	}
}

func TestOAuthErrorsMatchDoc(t *testing.T) {
	oauth := section(t, apiDoc(t), "## OAuth 2.0 device authorization (RFC 8628)")
	for code := range oauthErrors {
		if code == "internal" {
			continue // a server bug, as in the problem table
		}
		if !strings.Contains(oauth, "`"+code+"`") && !strings.Contains(oauth, `"error": "`+code+`"`) {
			t.Errorf("OAuth error %s is not documented", code)
		}
	}
	for client, c := range clients {
		if !strings.Contains(oauth, "| `"+client+"` | "+string(c.Type)+" |") {
			t.Errorf("client %s → %s is not in the registry table", client, c.Type)
		}
	}
}

func TestObjectsMatchDoc(t *testing.T) {
	doc := apiDoc(t)
	objects := section(t, doc, "## Objects")
	f := newFixture(t)
	var live map[string]json.RawMessage
	f.do("GET", "/api/v1/user", f.dev.Token, nil).json(t, &live)
	cases := []struct {
		name      string
		doc, code []string
	}{
		{"token", docKeys(t, objects, "Token:\n"), jsonKeys(t, movitera.Token{})},
		{"live token", docKeys(t, objects, "Token:\n"), jsonKeys(t, live["token"])},
		{"team", docKeys(t, objects, "Team: "), jsonKeys(t, movitera.Team{})},
		{"user", docKeys(t, section(t, doc, "### `GET /api/v1/user`"), "`200`:\n"), jsonKeys(t, userResponse{})},
		{"device code", docKeys(t, section(t, doc, "### `POST /oauth/device/code`"), "`200`:\n"), jsonKeys(t, deviceAuthResponse{})},
		{"device token", docKeys(t, section(t, doc, "### `POST /oauth/token`"), "`200`, once only, after approval:\n"), jsonKeys(t, deviceTokenResponse{ExpiresIn: 1})},
		{"token page", docKeys(t, section(t, doc, "### `GET /api/v1/teams/{team}/tokens`"), "`200`: "), jsonKeys(t, tokenPage{})},
		{"create", docKeys(t, section(t, doc, "### `POST /api/v1/teams/{team}/tokens`"), "`201`: "), jsonKeys(t, createResponse{})},
		{"create body", docKeys(t, section(t, doc, "### `POST /api/v1/teams/{team}/tokens`"), "Body: "), jsonKeys(t, createRequest{})},
		{"second factor", docKeys(t, section(t, doc, "### `POST /api/v1/second-factor`"), "`200`: "), jsonKeys(t, secondFactorResponse{})},
		{"bulk body", docKeys(t, section(t, doc, "### `POST /api/v1/teams/{team}/tokens/revoke`"), "Body: "), jsonKeys(t, bulkRevokeRequest{})},
		{"problem", docKeys(t, doc, "application/problem+json`:\n  `"), jsonKeys(t, problem{})},
		{"dev credentials", docKeys(t, section(t, doc, "## `movitera server`"), "`dev-credentials.json` (0600, written atomically):\n"), jsonKeys(t, DevCredentials{})},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.doc, c.code) {
			t.Errorf("%s: docs/api.md has fields %v; the server sends %v", c.name, c.doc, c.code)
		}
	}
	// Bulk results: the documented statuses are the ones the server uses.
	bulk := section(t, doc, "### `POST /api/v1/teams/{team}/tokens/revoke`")
	for _, st := range []string{"revoked", "already_revoked", "not_found"} {
		if !strings.Contains(bulk, `"`+st+`"`) {
			t.Errorf("bulk status %s not documented", st)
		}
	}
}

func keySet(m [][]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range m {
		if !seen[k[1]] {
			seen[k[1]] = true
			out = append(out, k[1])
		}
	}
	sort.Strings(out)
	return out
}
