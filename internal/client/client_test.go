package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	secret := "mvs_0123456789abcdefghijABCDEFGHIJ012345"
	cases := map[string]string{
		`{"secret":"` + secret + `","name":"ci"}`:             `{"secret":"[REDACTED]","name":"ci"}`,
		`{"access_token": "abc\"def", "token_type":"Bearer"}`: `{"access_token":"[REDACTED]", "token_type":"Bearer"}`,
		`grant_type=x&device_code=abc&client_id=movitera-cli`: `grant_type=x&device_code=[REDACTED]&client_id=movitera-cli`,
		`token=` + secret:                         `token=[REDACTED]`,
		`{"code":"123456"}`:                       `{"code":"[REDACTED]"}`,
		`{"detail":"bad ` + secret + ` here"}`:    `{"detail":"bad [REDACTED] here"}`,
		`password=hunter2&otp=123456&email=a%40b`: `password=[REDACTED]&otp=[REDACTED]&email=a%40b`,
		`{"code": 123456, "n": 1}`:                `{"code":"[REDACTED]", "n": 1}`,
		`{"status":401,"code":"token_revoked"}`:   `{"status":401,"code":"token_revoked"}`,
		`{"verification_uri_complete":"http://h/device?user_code=NSSZ-CKXG","interval":5}`: `{"verification_uri_complete":"http://h/device?user_code=[REDACTED]","interval":5}`,
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%s)\n got %s\nwant %s", in, got, want)
		}
	}
}

func TestDebugTraceHidesSecrets(t *testing.T) {
	secret := "mvc_0123456789abcdefghijABCDEFGHIJ012345"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token":{"id":"tok_1"},"secret":%q}`, secret)
	}))
	defer srv.Close()
	var trace bytes.Buffer
	c, err := New(Options{Server: srv.URL, Token: secret, HTTPClient: NewHTTPClient(HTTPOptions{Debug: &trace})})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.CreateToken(context.Background(), "acme", CreateRequest{Name: "x", ClientType: "sdk"}, "key-1")
	if err != nil || got.Secret != secret {
		t.Fatalf("create: %v %+v", err, got)
	}
	out := trace.String()
	if strings.Contains(out, secret) || strings.Contains(out, secret[4:20]) {
		t.Fatalf("secret in trace:\n%s", out)
	}
	if strings.Contains(out, "key-1") {
		t.Fatalf("idempotency key in trace:\n%s", out)
	}
	for _, want := range []string{"> POST " + srv.URL + "/api/v1/teams/acme/tokens", "> Authorization: Bearer [REDACTED]", "> Idempotency-Key: [REDACTED]", `"secret":"[REDACTED]"`, "< 200 OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}

func TestProblemBecomesAPIError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(401)
		io.WriteString(w, `{"type":"about:blank","title":"Token revoked","status":401,"detail":"This token was revoked.","code":"token_revoked"}`)
	}))
	defer srv.Close()
	c, _ := New(Options{Server: srv.URL, Token: "x"})
	_, err := c.User(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != CodeTokenRevoked || ae.ExitCode() != 4 {
		t.Fatalf("got %#v", err)
	}
	if err.Error() != "This token was revoked" {
		t.Fatalf("message %q", err.Error())
	}
}

// Rejected replaces the problem of a refused token, and of nothing else; a
// copy made by WithToken sends another token and does not call it.
func TestRejectedHandler(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		if r.URL.Path == "/api/v1/teams/nope/tokens" {
			w.WriteHeader(404)
			io.WriteString(w, `{"status":404,"code":"team_not_found"}`)
			return
		}
		w.WriteHeader(401)
		io.WriteString(w, `{"status":401,"detail":"This token was revoked.","code":"token_revoked"}`)
	}))
	defer srv.Close()
	var calls []string
	stale := errors.New("stale")
	c, _ := New(Options{Server: srv.URL, Token: "x", Rejected: func(_ context.Context, ae *APIError) error {
		calls = append(calls, ae.Code)
		return stale
	}})
	if _, err := c.User(context.Background()); err != stale {
		t.Fatalf("got %v", err)
	}
	if _, err := c.ListTokens(context.Background(), "nope", ListOptions{}); err == nil || err == stale {
		t.Fatalf("a problem other than the token's: %v", err)
	}
	var ae *APIError
	if _, err := c.WithToken("y").User(context.Background()); !errors.As(err, &ae) || ae.Code != CodeTokenRevoked {
		t.Fatalf("WithToken: %v", err)
	}
	if fmt.Sprint(calls) != "[token_revoked]" {
		t.Fatalf("Rejected called for %v", calls)
	}
}

// The CLI's hint follows a problem without a detail, never the server's own
// advice.
func TestHintOnlyWithoutDetail(t *testing.T) {
	withDetail := &APIError{Status: 404, Code: CodeTeamNotFound, Detail: `There is no team "nope". Run "movitera teams list" to see your teams.`}
	if got := withDetail.Error(); got != `There is no team "nope". Run "movitera teams list" to see your teams` {
		t.Errorf("with detail: %q", got)
	}
	bare := &APIError{Status: 404, Code: CodeTeamNotFound, Title: "Team not found"}
	if got := bare.Error(); got != "Team not found; list your teams with 'movitera teams list'" {
		t.Errorf("without detail: %q", got)
	}
}

func TestRetriesOnlyIdempotentRequests(t *testing.T) {
	var gets, posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := &posts
		if r.Method == "GET" {
			n = &gets
		}
		if n.Add(1) < 3 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(503)
			io.WriteString(w, `{"status":503,"code":"unavailable","detail":"busy"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"tokens":[],"next_cursor":null,"token":{},"secret":"s"}`)
	}))
	defer srv.Close()
	c, _ := New(Options{Server: srv.URL, Token: "x"})
	c.backoff = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	if _, err := c.ListTokens(context.Background(), "acme", ListOptions{}); err != nil || gets.Load() != 3 {
		t.Fatalf("GET: err %v after %d tries", err, gets.Load())
	}
	if _, err := c.CreateToken(context.Background(), "acme", CreateRequest{}, ""); err == nil || posts.Load() != 1 {
		t.Fatalf("POST without key: err %v after %d tries", err, posts.Load())
	}
	posts.Store(0)
	if _, err := c.CreateToken(context.Background(), "acme", CreateRequest{}, "k"); err != nil || posts.Load() != 3 {
		t.Fatalf("POST with key: err %v after %d tries", err, posts.Load())
	}
}

func TestNoTokenOverPlainHTTPToRemoteHost(t *testing.T) {
	if _, err := New(Options{Server: "http://vault.example.com", Token: "x"}); err == nil || err.Error() != "refusing to send a token over plain HTTP to vault.example.com: use an https:// server URL" {
		t.Fatalf("got %v", err)
	}
	for _, ok := range []string{"http://127.0.0.1:8270", "http://localhost:1", "http://[::1]:2", "https://vault.example.com"} {
		if _, err := New(Options{Server: ok, Token: "x"}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if _, err := New(Options{Server: "http://vault.example.com"}); err != nil {
		t.Errorf("no token: %v", err)
	}
}

func TestPagesAreWalked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("cursor") {
		case "":
			io.WriteString(w, `{"tokens":[{"id":"tok_1"},{"id":"tok_2"}],"next_cursor":"c2"}`)
		case "c2":
			io.WriteString(w, `{"tokens":[{"id":"tok_3"}],"next_cursor":null}`)
		}
	}))
	defer srv.Close()
	c, _ := New(Options{Server: srv.URL, Token: "x"})
	all, err := c.AllTokens(context.Background(), "acme", ListOptions{})
	if err != nil || len(all) != 3 || all[2].ID != "tok_3" {
		t.Fatalf("got %v %+v", err, all)
	}
}

func TestNetworkErrorSaysWhatToDo(t *testing.T) {
	c, _ := New(Options{Server: "http://127.0.0.1:1"})
	c.backoff = nil
	_, err := c.User(context.Background())
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "cannot reach the vault at http://127.0.0.1:1") || !strings.Contains(err.Error(), "MOVITERA_SERVER") {
		t.Fatalf("got %v", err)
	}
}

func TestRedirectsStayWithinTheOrigin(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
	}))
	defer other.Close()
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer vault.Close()
	c, _ := New(Options{Server: vault.URL, Token: "secret-value"})
	c.backoff = nil
	_, err := c.User(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refusing to follow a redirect from http://"+strings.TrimPrefix(vault.URL, "http://")+" to http://"+strings.TrimPrefix(other.URL, "http://")) {
		t.Fatalf("got %v", err)
	}
	if leaked.Load() != 0 {
		t.Fatal("the token followed the redirect to another origin")
	}
}

// An untrusted certificate or a refused redirect is the same on every
// attempt: the client answers after one try, while a GET that meets a
// connection error is tried again.
func TestPermanentNetworkErrorsAreNotRetried(t *testing.T) {
	var tlsHits, redirectHits atomic.Int32
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tlsHits.Add(1) }))
	var conns atomic.Int32
	untrusted.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	untrusted.StartTLS()
	defer untrusted.Close()
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer elsewhere.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirectHits.Add(1)
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirecting.Close()

	plain := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var plainConns atomic.Int32
	plain.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			plainConns.Add(1)
		}
	}
	plain.Start()
	defer plain.Close()
	plainHTTPS := "https://" + strings.TrimPrefix(plain.URL, "http://")
	for _, c := range []struct {
		name    string
		server  string
		tries   func() int32
		message string
	}{
		{"untrusted certificate", untrusted.URL, conns.Load,
			"cannot reach the vault at " + untrusted.URL + ": its certificate is signed by an authority this machine does not trust; if the vault uses a private CA, set SSL_CERT_FILE to that CA's certificate"},
		{"redirect to another origin", redirecting.URL, redirectHits.Load,
			"cannot reach the vault at " + redirecting.URL + ": refusing to follow a redirect from " + redirecting.URL + " to " + elsewhere.URL + ": set --server to the vault's own address; check the address (--server, MOVITERA_SERVER) and your network or proxy"},
		{"https:// to a plain HTTP server", plainHTTPS, plainConns.Load,
			"cannot reach the vault at " + plainHTTPS + ": the server there answers plain HTTP, not HTTPS; check the address (--server, MOVITERA_SERVER)"},
	} {
		cl, err := New(Options{Server: c.server, Token: "x"})
		if err != nil {
			t.Fatal(err)
		}
		cl.backoff = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
		_, err = cl.User(context.Background())
		var ne *NetworkError
		if !errors.As(err, &ne) || !permanent(err) || err.Error() != c.message {
			t.Errorf("%s: got %v; want the permanent network error %q", c.name, err, c.message)
		}
		if got := c.tries(); got != 1 {
			t.Errorf("%s: %d attempts; want 1", c.name, got)
		}
	}
	if tlsHits.Load() != 0 {
		t.Error("a request reached the server behind the untrusted certificate")
	}

	// A connection refused is not permanent: the GET is tried 1+3 times.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close() // hang up before answering
		}
	}()
	defer ln.Close()
	cl, _ := New(Options{Server: "http://" + ln.Addr().String(), Token: "x"})
	cl.backoff = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	if _, err := cl.User(context.Background()); err == nil || permanent(err) {
		t.Fatalf("hang-up: got %v; want a transient network error", err)
	}
	if got := accepted.Load(); got != 4 {
		t.Errorf("hang-up: %d attempts; want 4", got)
	}
}

// http:// to an HTTPS port: Go's server answers 400 in plain text; the
// client says to use https://.
func TestPlainHTTPToAnHTTPSServer(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	c, err := New(Options{Server: "http://" + host, Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.User(context.Background())
	want := "the server at " + host + " speaks HTTPS: use https://" + host + " as the server address (--server, MOVITERA_SERVER)"
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || err.Error() != want {
		t.Fatalf("got %v; want %q", err, want)
	}
}

// A 401 says whether the token the request carried was refused, or whether
// the request arrived without one (WWW-Authenticate, RFC 6750).
func TestTokenRefused(t *testing.T) {
	for _, c := range []struct {
		challenge string
		want      bool
	}{
		{`Bearer realm="movitera", error="invalid_token"`, true},
		{`Bearer realm="movitera"`, false},
		{``, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.challenge != "" {
				w.Header().Set("WWW-Authenticate", c.challenge)
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(401)
			io.WriteString(w, `{"status":401,"code":"unauthenticated","detail":"no"}`)
		}))
		cl, _ := New(Options{Server: srv.URL, Token: "x"})
		_, err := cl.User(context.Background())
		srv.Close()
		var ae *APIError
		if !errors.As(err, &ae) || ae.TokenRefused() != c.want {
			t.Errorf("challenge %q: %v, TokenRefused %v; want %v", c.challenge, err, ae != nil && ae.TokenRefused(), c.want)
		}
	}
}
