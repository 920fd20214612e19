package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// requestLines are the request log lines written so far, decoded.
func (f *fixture) requestLines() []map[string]any {
	f.t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			f.t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// lastRequestLine waits for the log line of the request just answered (it
// is written when the handler returns, which may be after the client read
// the answer).
func (f *fixture) lastRequestLine(n int) map[string]any {
	f.t.Helper()
	for i := 0; i < 200; i++ {
		if lines := f.requestLines(); len(lines) > n {
			return lines[len(lines)-1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.t.Fatal("no request log line")
	return nil
}

// A request's log line says who called: the peer's address and, for a
// bearer token the server knows, the token's id; never a secret or a query.
func TestRequestLogLine(t *testing.T) {
	f := newFixture(t)
	_, revoked := f.create(f.dev.Token, "acme", "leaked", movitera.TypeSDK, 30)
	var leaked struct{ Token movitera.Token }
	f.do("GET", "/api/v1/user", revoked, nil).json(t, &leaked)
	wantStatus(t, f.form("/oauth/revoke", map[string]string{"token": revoked}), 200)

	for _, c := range []struct {
		name, method, path, token string
		status                    int
		tokenID                   string
	}{
		{"api call", "GET", "/api/v1/teams/acme/tokens?include_revoked=true&limit=5", f.dev.Token, 200, f.dev.TokenID},
		{"api call, cached", "GET", "/api/v1/user", f.dev.Token, 200, f.dev.TokenID},
		{"revoked token", "GET", "/api/v1/user", revoked, 401, leaked.Token.ID},
		{"no token", "GET", "/api/v1/user", "", 401, ""},
		{"unknown token", "GET", "/api/v1/user", "mvs_notarealtoken", 401, ""},
		{"page", "GET", "/device?user_code=BCDF-GHJK", "", 200, ""},
	} {
		n := len(f.requestLines())
		wantStatus(t, f.do(c.method, c.path, c.token, nil), c.status)
		l := f.lastRequestLine(n)
		path, _, _ := strings.Cut(c.path, "?")
		if l["method"] != c.method || l["path"] != path || l["status"] != float64(c.status) || l["duration"] == nil {
			t.Errorf("%s: log line %v", c.name, l)
		}
		if l["client_ip"] != "127.0.0.1" {
			t.Errorf("%s: client_ip %v; want 127.0.0.1", c.name, l["client_ip"])
		}
		if got, _ := l["token_id"].(string); got != c.tokenID {
			t.Errorf("%s: token_id %q; want %q", c.name, got, c.tokenID)
		}
	}
	logs := f.logs.String()
	for _, secret := range []string{f.dev.Token, revoked, "user_code", "BCDF-GHJK", "include_revoked"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// Without trusted proxies the client is the socket's peer.
func TestClientIPIsPeer(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:5000":           "127.0.0.1",
		"[::ffff:10.0.0.1]:443":    "10.0.0.1",
		"[2001:db8::1%eth0]:8270":  "2001:db8::1",
		"[2001:db8:1:2:3::4]:8270": "2001:db8:1:2:3::4",
		"@":                        "@",
	} {
		r := &http.Request{RemoteAddr: addr, Header: http.Header{"X-Forwarded-For": {"192.0.2.7"}}}
		if got := (&Server{}).clientIP(r); got != want {
			t.Errorf("clientIP(%q) = %q; want %q", addr, got, want)
		}
	}
}

// A secret sent in a path by mistake is logged as its public prefix only.
func TestRequestLogHidesSecretsInPaths(t *testing.T) {
	f := newFixture(t)
	secret := f.dev.Token
	prefix := movitera.DisplayPrefix(secret)
	for _, c := range []struct{ method, path, logged string }{
		{"DELETE", "/api/v1/teams/acme/tokens/" + secret, "/api/v1/teams/acme/tokens/" + prefix + "…"},
		{"GET", "/" + secret, "/" + prefix + "…"},
		{"GET", "/api/v1/teams/acme/tokens/tok_0123456789abcdef", "/api/v1/teams/acme/tokens/tok_0123456789abcdef"},
	} {
		n := len(f.requestLines())
		f.do(c.method, c.path, f.dev.Token, nil)
		if l := f.lastRequestLine(n); l["path"] != c.logged {
			t.Errorf("%s %s logged as path %v; want %q", c.method, c.path, l["path"], c.logged)
		}
	}
	if strings.Contains(f.logs.String(), secret) {
		t.Error("the log holds the secret")
	}
}
