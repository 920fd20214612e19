package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func deviceCodeWithHost(t *testing.T, f *fixture, host string) deviceAuthResponse {
	t.Helper()
	req, _ := http.NewRequest("POST", f.ts.URL+"/oauth/device/code", strings.NewReader("client_id=movitera-cli"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d deviceAuthResponse
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&d) != nil {
		t.Fatalf("device code with Host %s: %d", host, resp.StatusCode)
	}
	return d
}

// verification_uri never comes from the Host header.
func TestVerificationURIIgnoresHost(t *testing.T) {
	f := newFixture(t)
	d := deviceCodeWithHost(t, f, "evil.example")
	if d.VerificationURI != f.ts.URL+"/device" || !strings.HasPrefix(d.VerificationURIComplete, f.ts.URL+"/device?user_code=") {
		t.Fatalf("with Host evil.example: %q, %q; want %s/device", d.VerificationURI, d.VerificationURIComplete, f.ts.URL)
	}

	// A configured public URL is used as is, whatever the Host.
	g := &fixture{t: t, dir: t.TempDir(), clock: &clock{t: epoch}}
	srv, err := Open(context.Background(), Config{DataDir: g.dir, Now: g.clock.Now, PublicURL: "https://vault.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	g.srv = srv
	g.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(g.close)
	for _, host := range []string{"evil.example", g.ts.Listener.Addr().String()} {
		if d := deviceCodeWithHost(t, g, host); d.VerificationURI != "https://vault.example.com/device" {
			t.Fatalf("with --public-url and Host %s: %q", host, d.VerificationURI)
		}
	}
}

func TestCheckPublicURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://vault.example.com":       "https://vault.example.com",
		"https://vault.example.com/":      "https://vault.example.com",
		"http://127.0.0.1:8270":           "http://127.0.0.1:8270",
		"https://example.com:8443/vault/": "https://example.com:8443/vault",
		"https://[2001:db8::1]:8443":      "https://[2001:db8::1]:8443",
	} {
		if got, err := CheckPublicURL(in); got != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "vault.example.com", "ftp://x", "https://", "https://u:p@x", "https://x/?a=b", "https://x/#f", "https://:443", "javascript:alert(1)"} {
		if _, err := CheckPublicURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := Open(context.Background(), Config{DataDir: t.TempDir(), PublicURL: "vault.example.com"}); err == nil {
		t.Error("Open accepted a public URL without a scheme")
	}
}

// Behind a TLS-terminating proxy (an https:// public URL) the session
// cookies are Secure although the request reaching the server is plain
// HTTP; with a plain-HTTP server and no such URL they are not.
func TestSessionCookieSecureBehindHTTPSProxy(t *testing.T) {
	cookie := func(handler http.Handler) *http.Cookie {
		t.Helper()
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/device", nil))
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie {
				return c
			}
		}
		t.Fatalf("no session cookie: %d %v", rec.Code, rec.Result().Header)
		return nil
	}
	plain := newFixture(t)
	if c := cookie(plain.srv.Handler()); c.Secure || !c.HttpOnly {
		t.Errorf("plain HTTP, no public URL: Secure %v, HttpOnly %v; want false, true", c.Secure, c.HttpOnly)
	}
	srv, err := Open(context.Background(), Config{DataDir: t.TempDir(), PublicURL: "https://vault.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if c := cookie(srv.Handler()); !c.Secure || !c.HttpOnly {
		t.Errorf("behind an HTTPS proxy: Secure %v, HttpOnly %v; want true, true", c.Secure, c.HttpOnly)
	}
}
