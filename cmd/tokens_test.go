package cmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/server"
)

// vault is a real movitera server in process, with the dev user.
type vault struct {
	url string
	dev *server.DevCredentials
}

func startVault(t *testing.T) *vault {
	t.Helper()
	srv, err := server.Open(context.Background(), server.Config{DataDir: t.TempDir(), Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	dev, err := srv.SetupDev(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &vault{url: hs.URL, dev: dev}
}

// testEnv is a factory on test streams whose credential is the dev token.
type testEnv struct {
	f                   *cmdutil.Factory
	cfg                 *config.Config
	stdin, stdout, errb *bytes.Buffer
}

func newTestEnv(t *testing.T, v *vault, rt http.RoundTripper) *testEnv {
	t.Helper()
	ios, stdin, stdout, stderr := iostreams.Test()
	cfg := &config.Config{Server: v.url, Token: v.dev.Token}
	hc := &http.Client{Timeout: 10 * time.Second}
	if rt != nil {
		hc.Transport = rt
	}
	newClient := func(token string) (*client.Client, error) {
		return client.New(client.Options{Server: v.url, Token: token, HTTPClient: hc})
	}
	f := &cmdutil.Factory{
		IO:     ios,
		Now:    time.Now,
		Config: func() (*config.Config, error) { return cfg, nil },
		Client: func() (*client.Client, error) { return newClient("") },
		AuthClient: func(context.Context) (*client.Client, *cmdutil.Credential, error) {
			c, err := newClient(cfg.Token)
			return c, &cmdutil.Credential{Token: cfg.Token, Source: "environment", Server: v.url, Team: cfg.Team}, err
		},
	}
	return &testEnv{f: f, cfg: cfg, stdin: stdin, stdout: stdout, errb: stderr}
}

func (e *testEnv) tokens(t *testing.T) []movitera.Token {
	t.Helper()
	c, _, _ := e.f.AuthClient(context.Background())
	ts, err := c.AllTokens(context.Background(), "acme", client.ListOptions{IncludeRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func (e *testEnv) named(t *testing.T, name string) []movitera.Token {
	var out []movitera.Token
	for _, tok := range e.tokens(t) {
		if tok.Name == name {
			out = append(out, tok)
		}
	}
	return out
}

func createOpts(e *testEnv, name string) *TokensCreateOptions {
	return &TokensCreateOptions{
		F: e.f, Name: name, Type: movitera.TypeSDK, Expiry: movitera.Expiry{Days: 30},
		Hostname: func() (string, error) { return "box", nil }, NewKey: func() string { return "key-" + name },
	}
}

// At a terminal, the second factor is asked (hidden, on stderr) and the
// create retried; a wrong code is asked again.
func TestCreatePromptsForTheSecondFactor(t *testing.T) {
	v := startVault(t)
	e := newTestEnv(t, v, nil)
	e.f.IO.SetTTY(true, false, true)
	good, err := server.TOTPCode(v.dev.TOTPSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.stdin.WriteString("000000\n" + good + "\n")
	if err := runTokensCreate(context.Background(), createOpts(e, "prompted")); err != nil {
		t.Fatalf("create: %v\nstderr: %s", err, e.errb)
	}
	if !strings.HasPrefix(e.stdout.String(), "mvs_") || strings.Count(e.stdout.String(), "\n") != 1 {
		t.Errorf("stdout %q: want the secret alone", e.stdout)
	}
	errs := e.errb.String()
	if strings.Count(errs, "Code from your authenticator app: ") != 2 || strings.Contains(errs, good) {
		t.Errorf("stderr: want two prompts and no code echoed:\n%s", errs)
	}
	if !strings.Contains(errs, secretWarning) {
		t.Errorf("stderr lacks the seed's warning:\n%s", errs)
	}
	if n := len(e.named(t, "prompted")); n != 1 {
		t.Errorf("%d tokens created", n)
	}
}

// Without a terminal: exit 4 at once, naming --otp and MOVITERA_OTP, and no
// prompt.
func TestCreateWithoutTerminalFailsFast(t *testing.T) {
	v := startVault(t)
	e := newTestEnv(t, v, nil)
	err := runTokensCreate(context.Background(), createOpts(e, "nope"))
	if cmdutil.ExitCode(err) != cmdutil.ExitAuth || !strings.Contains(err.Error(), "--otp") || !strings.Contains(err.Error(), "MOVITERA_OTP") {
		t.Fatalf("got %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	if e.errb.Len() != 0 || e.stdout.Len() != 0 {
		t.Errorf("printed: %q %q", e.stdout, e.errb)
	}
}

// dropFirstCreate lets the first create reach the server, then loses the
// answer, as a network failure would.
type dropFirstCreate struct {
	dropped atomic.Bool
	keys    []string
}

func (d *dropFirstCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/tokens") {
		d.keys = append(d.keys, r.Header.Get("Idempotency-Key"))
		if !d.dropped.Swap(true) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return nil, errors.New("connection reset by peer")
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A create retried after a network error makes one token, not two.
func TestCreateRetryMakesOneToken(t *testing.T) {
	v := startVault(t)
	rt := &dropFirstCreate{}
	e := newTestEnv(t, v, rt)
	code, _ := server.TOTPCode(v.dev.TOTPSecret, time.Now())
	opts := createOpts(e, "retried")
	opts.OTP, opts.otpPassed = code, true
	opts.NewKey = func() string { return "k-" + time.Now().String() }
	if err := runTokensCreate(context.Background(), opts); err != nil {
		t.Fatalf("create: %v", err)
	}
	// Asked for the second factor (1), confirmed, created but the answer
	// lost (2), retried (3): one key throughout.
	if len(rt.keys) != 3 || rt.keys[0] == "" || rt.keys[0] != rt.keys[1] || rt.keys[1] != rt.keys[2] {
		t.Fatalf("Idempotency-Keys %q: want the same key three times", rt.keys)
	}
	toks := e.named(t, "retried")
	if len(toks) != 1 || !strings.HasPrefix(e.stdout.String(), toks[0].Prefix) {
		t.Fatalf("%d tokens; stdout %q", len(toks), e.stdout)
	}
}

func TestRevokeAsksAtATerminal(t *testing.T) {
	v := startVault(t)
	e := newTestEnv(t, v, nil)
	code, _ := server.TOTPCode(v.dev.TOTPSecret, time.Now())
	opts := createOpts(e, "victim")
	opts.OTP, opts.otpPassed = code, true
	if err := runTokensCreate(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	e.f.IO.SetTTY(true, true, true)
	revoke := &TokensRevokeOptions{F: e.f, Args: []string{"victim"}}

	e.stdin.WriteString("n\n")
	e.errb.Reset()
	e.stdout.Reset()
	if err := runTokensRevoke(context.Background(), revoke); !errors.Is(err, cmdutil.ErrDeclined) {
		t.Fatalf("declined: got %v", err)
	}
	errs := e.errb.String()
	for _, want := range []string{"About to revoke 1 token in team acme:", "victim", revokeWarning, "Revoke 1 token? [y/N] "} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if tok := e.named(t, "victim")[0]; tok.RevokedAt != nil {
		t.Fatal("revoked after no")
	}

	e.stdin.WriteString("y\n")
	e.errb.Reset()
	if err := runTokensRevoke(context.Background(), revoke); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.errb.String(), `Token revoked: "victim"`) {
		t.Errorf("stderr:\n%s", e.errb)
	}
	if tok := e.named(t, "victim")[0]; tok.RevokedAt == nil {
		t.Fatal("not revoked after yes")
	}
	if e.stdout.Len() != 0 {
		t.Errorf("stdout %q", e.stdout)
	}
}

// Every page is fetched, and a terminal gets colour only when allowed.
func TestListPagesAndColour(t *testing.T) {
	v := startVault(t)
	e := newTestEnv(t, v, nil)
	code, _ := server.TOTPCode(v.dev.TOTPSecret, time.Now())
	for i, name := range []string{"a1", "a2", "a3", "a4", "gone"} {
		opts := createOpts(e, name)
		if i == 0 {
			opts.OTP, opts.otpPassed = code, true
		}
		if err := runTokensCreate(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
	}
	e.f.IO.SetTTY(false, false, false)
	if err := runTokensRevoke(context.Background(), &TokensRevokeOptions{F: e.f, Args: []string{"gone"}, Yes: true}); err != nil {
		t.Fatal(err)
	}

	list := func(tty, color bool, o TokensListOptions) string {
		e.stdout.Reset()
		e.f.IO.SetTTY(false, tty, false)
		e.f.IO.SetColor(color)
		o.F = e.f
		if o.PageSize == 0 {
			o.PageSize = 2
		}
		if err := runTokensList(context.Background(), &o); err != nil {
			t.Fatal(err)
		}
		return e.stdout.String()
	}
	pipe := list(false, true, TokensListOptions{})
	if n := strings.Count(pipe, "\n"); n != 6 || strings.ContainsRune(pipe, 0x1b) {
		t.Errorf("pipe: %d lines (want 6: five and the dev token), or escapes:\n%s", n, pipe)
	}
	colour := list(true, true, TokensListOptions{})
	if !strings.Contains(colour, "\x1b[9mtok_") || !strings.HasPrefix(colour, "\x1b[1mID") {
		t.Errorf("colour terminal: want a bold header and the revoked row struck through:\n%q", colour)
	}
	plain := list(true, false, TokensListOptions{})
	if strings.ContainsRune(plain, 0x1b) || !strings.HasPrefix(plain, "ID ") {
		t.Errorf("NO_COLOR terminal: want a header and no escapes:\n%q", plain)
	}
	active := list(false, false, TokensListOptions{Active: true, JSON: true})
	if strings.Count(active, `"state":"active"`) != 5 || strings.Contains(active, "gone") {
		t.Errorf("--active --json:\n%s", active)
	}
}

// The terminal's width reaches the table: at 60 columns the optional
// columns go and every line fits; a pipe is the same at any width.
func TestListFitsTerminalWidth(t *testing.T) {
	v := startVault(t)
	e := newTestEnv(t, v, nil)
	code, _ := server.TOTPCode(v.dev.TOTPSecret, time.Now())
	opts := createOpts(e, "東京オフィスの本番環境デプロイ用トークン · sdk")
	opts.OTP, opts.otpPassed = code, true
	if err := runTokensCreate(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	list := func(tty bool, width int) string {
		e.stdout.Reset()
		e.f.IO.SetTTY(false, tty, false)
		e.f.IO.SetWidth(width)
		if err := runTokensList(context.Background(), &TokensListOptions{F: e.f, PageSize: 500}); err != nil {
			t.Fatal(err)
		}
		return e.stdout.String()
	}
	table := list(true, 60)
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "ID NAME EXPIRES" {
		t.Errorf("60 columns: header %q, want ID NAME EXPIRES", lines[0])
	}
	if !strings.Contains(table, "東京オフィスの本…") {
		t.Errorf("60 columns: the long name is not cut to fit:\n%s", table)
	}
	for _, l := range lines {
		if w := twwidth.Width(l); w > 60 {
			t.Errorf("60 columns: a line is %d cells wide: %q", w, l)
		}
	}
	if wide := list(true, 0); !strings.Contains(wide, "東京オフィスの本番環境デプロイ用トークン · sdk") || !strings.Contains(wide, "PREFIX") {
		t.Errorf("no width known: want the whole table, uncut:\n%s", wide)
	}
	if pipe, tiny := list(false, 0), list(false, 5); pipe != tiny || !strings.Contains(tiny, "\t東京オフィスの本番環境デプロイ用トークン · sdk\t") {
		t.Errorf("pipe at 5 columns differs from the pipe without a width, or cuts:\n%s\n%s", tiny, pipe)
	}
}

func TestExpiryFromDate(t *testing.T) {
	for _, zone := range []string{"Pacific/Auckland", "America/Los_Angeles"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		// 23:30 UTC on 3 December: already the 4th in Auckland, still the
		// 3rd in Los Angeles. Days count from the UTC date.
		now := time.Date(2026, 12, 3, 23, 30, 0, 0, time.UTC).In(loc)
		for in, want := range map[string]int{"2026-12-10": 7, "2027-03-03": 90, "2027-12-03": 365} {
			got, err := expiryFromDate(in, now)
			if err != nil || got.Days != want {
				t.Errorf("%s: %s = %v, %v; want %d days", zone, in, got, err, want)
			}
		}
		for _, in := range []string{"2026-12-09", "2027-12-04", "2026-12-03", "tomorrow", "2027-02-30"} {
			if _, err := expiryFromDate(in, now); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("%s: %s accepted (%v)", zone, in, err)
			}
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{"ci · sdk": true, "東京 🔑": true, "  ": false, "a\x1b[31m": false, "a\u202eb": false, strings.Repeat("é", 100): true, strings.Repeat("é", 101): false} {
		if err := checkName(name); (err == nil) != ok {
			t.Errorf("checkName(%q) = %v", name, err)
		}
	}
	if got := defaultName(func() (string, error) { return "meu macbook", nil }, movitera.TypeCLI); got != "meu macbook · cli" {
		t.Errorf("defaultName = %q", got)
	}
}

func TestTeamsListTerminal(t *testing.T) {
	v := startVault(t)
	e := newTestEnv(t, v, nil)
	e.f.IO.SetTTY(false, true, false)
	if err := runTeamsList(context.Background(), &TeamsListOptions{F: e.f}); err != nil {
		t.Fatal(err)
	}
	want := "   SLUG    NAME    ROLE\n*  acme    Acme    manager\n   globex  Globex  member\n"
	if e.stdout.String() != want {
		t.Errorf("got\n%q\nwant\n%q", e.stdout, want)
	}
}

// Several tokens: the warning speaks of "these tokens", and the question
// leaves a space before the answer.
func TestRevokeSeveralWarnsOfTheseTokens(t *testing.T) {
	v := startVault(t)
	e := newTestEnv(t, v, nil)
	code, _ := server.TOTPCode(v.dev.TOTPSecret, time.Now())
	for i, name := range []string{"p1", "p2"} {
		opts := createOpts(e, name)
		if i == 0 {
			opts.OTP, opts.otpPassed = code, true
		}
		if err := runTokensCreate(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
	}
	e.f.IO.SetTTY(true, true, true)
	e.stdin.WriteString("n\n")
	e.errb.Reset()
	err := runTokensRevoke(context.Background(), &TokensRevokeOptions{F: e.f, Args: []string{"p1", "p2"}})
	if !errors.Is(err, cmdutil.ErrDeclined) {
		t.Fatalf("got %v", err)
	}
	errs := e.errb.String()
	want := "Revocation is immediate and can't be undone: any CLI or extension using these tokens stops working immediately.\nRevoke 2 tokens? [y/N] "
	if !strings.Contains(errs, want) || strings.Contains(errs, "this token") {
		t.Errorf("stderr:\n%s", errs)
	}
}
